// Writing CSV (RFC 4180) for exports that people open in spreadsheets. The CLI's export and the
// web's start-links download write their cells through here, so both keep the same guard against
// formula injection: a contact's name is user input, and "=HYPERLINK(...)" must stay text.
#pragma once

#include <string>
#include <string_view>

namespace tginvite::core {

// Neutralises a cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR first):
// "=HYPERLINK(...)" -> "'=HYPERLINK(...)".
std::string NeutraliseFormula(std::string_view cell);

// Quotes a cell as RFC 4180 requires (when it holds a comma, a quote or a line break).
std::string CsvCell(std::string_view cell);

// A cell of an export: neutralised, then quoted.
inline std::string ExportCell(std::string_view cell) { return CsvCell(NeutraliseFormula(cell)); }

}  // namespace tginvite::core
