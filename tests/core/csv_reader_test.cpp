#include "core/csv_reader.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/utf8.h"

namespace tginvite::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<CsvRecord> ReadAll(CsvReader& reader) {
  std::vector<CsvRecord> records;
  while (std::optional<CsvRecord> record = reader.Next()) records.push_back(std::move(*record));
  return records;
}

std::vector<CsvRecord> ReadAll(std::string text) {
  return ReadAll(*CsvReader::FromString(std::move(text)));
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents)
      : path_(std::filesystem::temp_directory_path() /
              ("csv_reader_test_" +
               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv")) {
    std::ofstream out(path_, std::ios::binary);
    out << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(CsvReaderTest, ReadsSimpleRecordsWithLineNumbers) {
  const auto records = ReadAll("a,b,c\n1,2,3\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b", "c"));
  EXPECT_THAT(records[0].problem, IsEmpty());
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[1].fields, ElementsAre("1", "2", "3"));
}

TEST(CsvReaderTest, KeepsEmptyFields) {
  const auto records = ReadAll(",a,,\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("", "a", "", ""));
}

TEST(CsvReaderTest, LastRecordWithoutTrailingNewline) {
  const auto records = ReadAll("a,b\nc,d");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReaderTest, QuotedFieldsWithCommasAndEscapedQuotes) {
  const auto records = ReadAll("\"Smith, John\",\"say \"\"hi\"\"\",\"\"\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("Smith, John", "say \"hi\"", ""));
  EXPECT_THAT(records[0].problem, IsEmpty());
}

TEST(CsvReaderTest, QuotedFieldsWithLineBreaksKeepStartLine) {
  const auto records = ReadAll("h1,h2\n\"two\nlines\",x\n\"three\r\nlines\r\nhere\",y\nlast,z\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[1].fields, ElementsAre("two\nlines", "x"));
  EXPECT_EQ(records[2].line, 4);
  EXPECT_THAT(records[2].fields, ElementsAre("three\r\nlines\r\nhere", "y"));
  EXPECT_EQ(records[3].line, 7);
  EXPECT_THAT(records[3].fields, ElementsAre("last", "z"));
}

TEST(CsvReaderTest, LoneCarriageReturnInsideQuotesIsData) {
  const auto records = ReadAll("\"a\rb\",c\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre("a\rb", "c"));
}

TEST(CsvReaderTest, CrlfRecords) {
  const auto records = ReadAll("a,\"b\"\r\nc,d\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReaderTest, SkipsBom) {
  const auto records = ReadAll("\xEF\xBB\xBFusername,phone\nbob,1\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("username", "phone"));
  EXPECT_EQ(records[0].line, 1);
}

TEST(CsvReaderTest, BomOnlyInputHasNoRecords) { EXPECT_THAT(ReadAll("\xEF\xBB\xBF"), IsEmpty()); }

TEST(CsvReaderTest, EmptyInputHasNoRecords) { EXPECT_THAT(ReadAll(""), IsEmpty()); }

TEST(CsvReaderTest, SkipsBlankLinesButCountsThem) {
  const auto records = ReadAll("\na\n\r\n\nb\n\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a"));
  EXPECT_EQ(records[0].line, 2);
  EXPECT_THAT(records[1].fields, ElementsAre("b"));
  EXPECT_EQ(records[1].line, 5);
}

TEST(CsvReaderTest, QuotedEmptyFieldIsNotABlankLine) {
  const auto records = ReadAll("\"\"\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].fields, ElementsAre(""));
}

// Invariant I8 (docs/invariants.md)
TEST(CsvReaderTest, StrayQuoteIsAProblemThenReaderRecovers) {
  const auto records = ReadAll("a,b\"c,d\nok,1\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line, 1);
  EXPECT_EQ(records[0].problem, "stray quote in unquoted field");
  EXPECT_THAT(records[0].fields, IsEmpty());
  EXPECT_EQ(records[1].line, 2);
  EXPECT_THAT(records[1].problem, IsEmpty());
  EXPECT_THAT(records[1].fields, ElementsAre("ok", "1"));
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAProblemThenReaderRecovers) {
  const auto records = ReadAll("\"a\"b,c\r\nok,1\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].problem, "text after closing quote");
  EXPECT_THAT(records[1].fields, ElementsAre("ok", "1"));
  EXPECT_EQ(records[1].line, 2);
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfInput) {
  const auto records = ReadAll("a,b\nc,\"open\nmore\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_THAT(records[0].fields, ElementsAre("a", "b"));
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].problem, "unterminated quoted field");
  EXPECT_THAT(records[1].fields, IsEmpty());
}

// Invariant I12 (docs/invariants.md)
TEST(CsvReaderTest, RecordLongerThanOneMibIsSkippedToItsEnd) {
  const std::string huge(1024 * 1024 + 1, 'x');
  const auto records = ReadAll("a,b\n" + huge + ",y\nc,d\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[1].problem, "record longer than 1 MiB");
  EXPECT_THAT(records[1].fields, IsEmpty());
  EXPECT_EQ(records[2].line, 3);
  EXPECT_THAT(records[2].fields, ElementsAre("c", "d"));
}

TEST(CsvReaderTest, LongQuotedRecordIsSkippedQuoteAware) {
  std::string huge = "\"";
  for (int i = 0; i < 50000; ++i) huge += "line of text, with a comma\n";
  huge += "\"";
  const auto records = ReadAll(huge + ",y\nc,d\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].problem, "record longer than 1 MiB");
  EXPECT_EQ(records[1].line, 50002);
  EXPECT_THAT(records[1].fields, ElementsAre("c", "d"));
}

TEST(CsvReaderTest, RecordOfExactlyOneMibIsAccepted) {
  const std::string big(1024 * 1024, 'x');
  const auto records = ReadAll(big + "\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].problem, IsEmpty());
  EXPECT_EQ(records[0].fields.at(0).size(), big.size());
}

TEST(CsvReaderTest, OpenMissingFileIsNotFound) {
  const auto reader = CsvReader::Open("/nonexistent/contacts.csv");
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(reader.error().message, "/nonexistent/contacts.csv: no such file");
}

TEST(CsvReaderTest, OpenDirectoryIsInvalidArgument) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const auto reader = CsvReader::Open(dir);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(reader.error().message, dir + ": is a directory");
}

TEST(CsvReaderTest, ReadsFileAcrossBufferBoundariesAndReportsProgress) {
  // Quoted fields, CRLF pairs and "" escapes straddle the 64 KiB buffer boundaries.
  std::string text = "\xEF\xBB\xBFid,name\r\n";
  std::vector<std::string> names;
  for (int i = 0; i < 20000; ++i) {
    names.push_back("n\"" + std::to_string(i) + "\r\nx");
    text += std::to_string(i) + ",\"n\"\"" + std::to_string(i) + "\r\nx\"\r\n";
  }
  const TempFile file(text);
  auto reader = CsvReader::Open(file.path());
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->total_bytes(), text.size());
  EXPECT_EQ((*reader)->bytes_read(), 0u);
  const auto records = ReadAll(**reader);
  EXPECT_EQ((*reader)->bytes_read(), text.size());
  ASSERT_EQ(records.size(), 20001u);
  EXPECT_THAT(records[0].fields, ElementsAre("id", "name"));
  for (int i = 0; i < 20000; ++i) {
    const CsvRecord& record = records[static_cast<size_t>(i) + 1];
    ASSERT_THAT(record.problem, IsEmpty()) << i;
    ASSERT_EQ(record.line, 2 + 2 * i);
    ASSERT_THAT(record.fields, ElementsAre(std::to_string(i), names[static_cast<size_t>(i)]));
  }
}

TEST(CsvReaderTest, FromStringReportsProgress) {
  auto reader = CsvReader::FromString("a,b\nc,d\n");
  EXPECT_EQ(reader->total_bytes(), 8u);
  ASSERT_TRUE(reader->Next());
  EXPECT_EQ(reader->bytes_read(), 4u);
  ASSERT_TRUE(reader->Next());
  EXPECT_FALSE(reader->Next());
  EXPECT_EQ(reader->bytes_read(), 8u);
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("J\xC3\xBCrgen \xE5\x90\x8D \xF0\x9F\x98\x80"));  // Jürgen 名 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                             // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));                                 // U+D7FF
}

TEST(Utf8Test, RejectsOverlongForms) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));
}

TEST(Utf8Test, RejectsSurrogatesAndBeyondMaximum) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(Utf8Test, RejectsTruncatedAndStraySequences) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("ab\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
}

TEST(Utf8Test, CountsUtf16UnitsAndCodePoints) {
  EXPECT_EQ(Utf16Length(""), 0u);
  EXPECT_EQ(Utf16Length("abc"), 3u);
  EXPECT_EQ(Utf16Length("J\xC3\xBCrgen"), 6u);
  EXPECT_EQ(Utf16Length("\xE5\x90\x8D"), 1u);
  EXPECT_EQ(Utf16Length("hi \xF0\x9F\x98\x80"), 5u);  // the emoji is a surrogate pair
  EXPECT_EQ(CodePointCount("hi \xF0\x9F\x98\x80"), 4u);
  EXPECT_EQ(CodePointCount("J\xC3\xBCrgen \xE5\x90\x8D"), 8u);
}

TEST(Utf8Test, QuotedForMessageIsValidUtf8WhateverItQuotes) {
  EXPECT_EQ(QuotedForMessage("abc"), "\"abc\"");
  EXPECT_EQ(QuotedForMessage(""), "\"\"");
  EXPECT_EQ(QuotedForMessage("say \"hi\" \\ bye"), R"("say \"hi\" \\ bye")");
  EXPECT_EQ(QuotedForMessage("a\nb\rc\td\x01\x7F"), R"("a\nb\rc\td\x01\x7f")");
  EXPECT_EQ(QuotedForMessage("J\xC3\xBCrgen \xF0\x9F\x98\x80"), "\"J\xC3\xBCrgen \xF0\x9F\x98\x80\"");
  // Every byte of an invalid or cut-short sequence, and nothing of the valid text around it.
  EXPECT_EQ(QuotedForMessage("\xFF\xFE"), R"("\xff\xfe")");
  EXPECT_EQ(QuotedForMessage("x\xE2\x82"), R"("x\xe2\x82")");
  EXPECT_EQ(QuotedForMessage("\xC3(\xC3\xA9"), "\"\\xc3(\xC3\xA9\"");
  EXPECT_EQ(QuotedForMessage("\xED\xA0\x80"), R"("\xed\xa0\x80")");  // a surrogate
  EXPECT_TRUE(IsValidUtf8(QuotedForMessage("\xF4\x90\x80\x80\xC0\xAF")));
}

}  // namespace
}  // namespace tginvite::core
