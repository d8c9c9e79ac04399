// Showing a PostgreSQL URL to a person: the password goes, the rest stays.
#pragma once

#include <string>
#include <string_view>

namespace tginvite::storage {

// "postgresql://user:secret@host/db?password=x" -> "postgresql://user:***@host/db?password=***".
// Any other text is returned as it is.
std::string RedactDatabaseUrl(std::string_view url);

}  // namespace tginvite::storage
