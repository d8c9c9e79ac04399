// gen_contacts ROWS [SEED]: writes ROWS deterministic, importable contacts as CSV to stdout, for
// the import benchmark (bench/import_benchmark.sh). The same ROWS and SEED give the same bytes on
// every platform: the generator uses its own PRNG (splitmix64), not <random>'s distributions.
//
// Every row has a unique telegram_user_id and consent "yes"; ~70% have a unique valid username,
// ~30% a unique valid German mobile number (+49 151 + 8 digits, in a few spellings); names are
// drawn from pools that include non-ASCII UTF-8 and values with commas or quotes, so the CSV
// needs RFC 4180 quoting. Only the standard library is used.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for benchmark data (n is tiny next to 2^64).
  uint64_t Below(uint64_t n) { return Next() % n; }
  // True with probability percent/100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }

 private:
  uint64_t state_;
};

struct Name {
  std::string_view text;   // as written in the CSV cell (unquoted)
  std::string_view ascii;  // lower-case ASCII stem for usernames, [a-z]+
};

constexpr Name kFirstNames[] = {
    {"Anna", "anna"},
    {"Ben", "ben"},
    {"Chloé", "chloe"},
    {"David", "david"},
    {"Emma", "emma"},
    {"Felix", "felix"},
    {"Greta", "greta"},
    {"Hannah", "hannah"},
    {"Ivan", "ivan"},
    {"Jürgen", "juergen"},
    {"Katarzyna", "kasia"},
    {"Liam", "liam"},
    {"Mia", "mia"},
    {"Noah", "noah"},
    {"Olivia", "olivia"},
    {"Paul", "paul"},
    {"Zoë", "zoe"},
    {"Łukasz", "lukasz"},
    {"José", "jose"},
    {"Søren", "soren"},
    {"Дмитрий", "dmitry"},
    {"Анна", "anya"},
    {"María José", "mariajose"},
    {"李", "li"},
    {"さくら", "sakura"},
    {"محمد", "mohammed"},
    {"Άννα", "anna"},
    {"Mary-Kate", "marykate"},
    {"Jean Luc", "jeanluc"},
    {"Ngozi", "ngozi"},
    {"Aiyana", "aiyana"},
    {"Sven", "sven"},
};

constexpr Name kLastNames[] = {
    {"Müller", "mueller"},
    {"Schmidt", "schmidt"},
    {"Schneider", "schneider"},
    {"Fischer", "fischer"},
    {"Weber", "weber"},
    {"Smith", "smith"},
    {"Johnson", "johnson"},
    {"Smith, Jr.", "smithjr"},
    {"García Márquez", "garcia"},
    {"Nowak", "nowak"},
    {"Kowalski", "kowalski"},
    {"Иванов", "ivanov"},
    {"Петрова", "petrova"},
    {"O'Brien", "obrien"},
    {"Dupont", "dupont"},
    {"Lefèvre", "lefevre"},
    {"Rossi", "rossi"},
    {"Tanaka", "tanaka"},
    {"王", "wang"},
    {"Nguyễn", "nguyen"},
    {"Öztürk", "ozturk"},
    {"Jensen", "jensen"},
    {"van der Berg", "vanderberg"},
    {"Doe, PhD", "doe"},
    {"Hansen", "hansen"},
    {"Bianchi", "bianchi"},
    {"Kim", "kim"},
    {"Adeyemi", "adeyemi"},
    {"Murphy", "murphy"},
    {"\"Ace\" Walker", "walker"},
    {"", ""},
    {"", ""},  // some contacts give no last name
};

template <typename T, size_t N>
constexpr size_t Count(const T (&)[N]) {
  return N;
}

// A bijection of [0, 2^31-1) onto itself (multiplication modulo a prime), so distinct row
// numbers give distinct, scattered values.
uint64_t Scatter31(uint64_t i) { return (i * 1583458089ULL) % 2147483647ULL; }

// A bijection of [0, 10^8) onto itself (multiplier coprime to 10^8).
uint64_t Scatter8Digits(uint64_t i) { return (i * 37493921ULL + 7654321ULL) % 100000000ULL; }

// Appends `value` in base 36, zero-padded to at least `width` digits.
void AppendBase36(std::string& out, uint64_t value, size_t width) {
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36];
    value /= 36;
  } while (value != 0);
  while (n < width) digits[n++] = '0';
  while (n != 0) out += digits[--n];
}

// A valid, unique Telegram username for row `row`: 5..32 chars of [a-z0-9_], starts with a
// letter, no trailing '_', no "__". It is a letter stem, '_', then the row number in base 36
// (3..6 digits, since rows < 2^31 < 36^6): the part after the last '_' is the row number, so two
// rows can never get the same name whatever the stems are.
std::string Username(SplitMix64& rng, const Name& first, const Name& last, uint64_t row) {
  std::string name;
  switch (rng.Below(4)) {
    case 0:  // anna_mueller_01x
      name = first.ascii;
      if (!last.ascii.empty()) (name += '_') += last.ascii;
      break;
    case 1:  // annamueller_01x
      name = first.ascii;
      name += last.ascii;
      break;
    case 2:  // a_mueller_01x, or anna_01x without a last name
      if (last.ascii.empty()) {
        name = first.ascii;
      } else {
        name += first.ascii.front();
        name += '_';
        name += last.ascii;
      }
      break;
    default:  // the_anna_01x
      name = "the_";
      name += first.ascii;
      break;
  }
  constexpr size_t kMaxStem = 32 - 1 - 6;
  if (name.size() > kMaxStem) name.resize(kMaxStem);
  while (name.back() == '_') name.pop_back();  // no "__" once the separator follows
  name += '_';
  AppendBase36(name, row, 3);
  return name;
}

// A unique valid German mobile number, +49 151 followed by 8 digits, spelled one of a few ways.
std::string Phone(SplitMix64& rng, uint64_t phone_index) {
  char digits[9];
  std::snprintf(digits, sizeof digits, "%08llu",
                static_cast<unsigned long long>(Scatter8Digits(phone_index)));
  const std::string_view d(digits, 8);
  std::string phone;
  switch (rng.Below(4)) {
    case 0:  // +4915112345678
      phone = "+49151";
      phone += d;
      break;
    case 1:  // +49 151 12345678
      phone = "+49 151 ";
      phone += d;
      break;
    case 2:  // +49 151 1234 5678
      phone = "+49 151 ";
      phone += d.substr(0, 4);
      phone += ' ';
      phone += d.substr(4);
      break;
    default:  // +49-151-1234-5678
      phone = "+49-151-";
      phone += d.substr(0, 4);
      phone += '-';
      phone += d.substr(4);
      break;
  }
  return phone;
}

// Appends `cell` to `line`, quoted as RFC 4180 requires.
void AppendCell(std::string& line, std::string_view cell) {
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) {
    line += cell;
    return;
  }
  line += '"';
  for (char c : cell) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

// Phones are unique only up to 10^8 of them (~30% of rows).
constexpr unsigned long long kMaxRows = 300000000;

int Usage() {
  std::fputs("usage: gen_contacts ROWS [SEED]   (ROWS <= 300000000; CSV on stdout)\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return Usage();
  char* end = nullptr;
  const unsigned long long rows = std::strtoull(argv[1], &end, 10);
  if (*end != '\0' || rows > kMaxRows) return Usage();
  uint64_t seed = 20240601;
  if (argc == 3) {
    seed = std::strtoull(argv[2], &end, 10);
    if (*end != '\0') return Usage();
  }

  static char out_buffer[1 << 20];
  std::setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
  std::fputs("telegram_user_id,username,first_name,last_name,phone,consent\n", stdout);

  SplitMix64 rng(seed);
  uint64_t phones = 0;
  std::string line;
  for (uint64_t row = 1; row <= rows; ++row) {
    const Name& first = kFirstNames[rng.Below(Count(kFirstNames))];
    const Name& last = kLastNames[rng.Below(Count(kLastNames))];
    line.clear();
    line += std::to_string(100000000ULL + Scatter31(row));  // realistic 9..10 digit ids
    line += ',';
    if (rng.Percent(70)) line += Username(rng, first, last, row);
    line += ',';
    AppendCell(line, first.text);
    line += ',';
    AppendCell(line, last.text);
    line += ',';
    if (rng.Percent(30)) line += Phone(rng, phones++);
    line += ",yes\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  if (std::fflush(stdout) != 0) {
    std::perror("gen_contacts: write");
    return 1;
  }
  return 0;
}
