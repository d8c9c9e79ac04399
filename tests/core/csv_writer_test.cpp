#include "core/csv_writer.h"

#include <gtest/gtest.h>

namespace tginvite::core {
namespace {

TEST(CsvWriterTest, CellsAFormulaWouldRunBecomeText) {
  EXPECT_EQ(ExportCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(ExportCell("+4930123456"), "'+4930123456");
  EXPECT_EQ(ExportCell("-1"), "'-1");
  EXPECT_EQ(ExportCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(ExportCell("\tx"), "'\tx");
  EXPECT_EQ(ExportCell("Ann"), "Ann");
  EXPECT_EQ(ExportCell("https://t.me/bot?start=abc"), "https://t.me/bot?start=abc");
}

TEST(CsvWriterTest, CellsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("plain"), "plain");
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("two\nlines"), "\"two\nlines\"");
}

}  // namespace
}  // namespace tginvite::core
