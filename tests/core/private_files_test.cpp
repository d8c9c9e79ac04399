#include "core/private_files.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fakes/files.h"
#include "fakes/temp_dir.h"

namespace tginvite::core {
namespace {

using testing::ModeOf;
using testing::TempDir;

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every test runs under the usual umask, which would leave new files 0644 and folders 0755.
class PrivateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = ::umask(022); }
  void TearDown() override { ::umask(old_umask_); }

  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PrivateFilesTest, NewFoldersAreOwnerOnlyAndExistingOnesAreLeftAlone) {
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0751), 0);
  ASSERT_TRUE(CreatePrivateFolders(dir_.path() / "a" / "b"));
  EXPECT_EQ(ModeOf(dir_.File("a")), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("a/b")), 0700u);
  EXPECT_EQ(ModeOf(dir_.path().string()), 0751u);
  EXPECT_TRUE(CreatePrivateFolders(dir_.path() / "a" / "b")) << "existing folders are no error";
}

// Invariant I7 (docs/invariants.md)
TEST_F(PrivateFilesTest, ANewFileIsOwnerOnlyAndNeverReplaced) {
  const std::string path = dir_.File("secret.key");
  ASSERT_TRUE(CreatePrivateFile(path, "first\n", IfExists::kFail));
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(Contents(path), "first\n");

  Status again = CreatePrivateFile(path, "second\n", IfExists::kFail);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(CreatePrivateFile(path, "second\n", IfExists::kKeep));
  EXPECT_EQ(Contents(path), "first\n");
}

TEST_F(PrivateFilesTest, AReplacedFileIsOwnerOnlyAndLeavesNoTemporaryFile) {
  const std::string path = dir_.File("secret.key");
  std::ofstream(path) << "old\n";
  ASSERT_EQ(ModeOf(path), 0644u);
  ASSERT_TRUE(ReplacePrivateFile(path, "new\n"));
  EXPECT_EQ(Contents(path), "new\n");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(PrivateFilesTest, AFileOpenedForWritingIsEmptiedAndMadeOwnerOnly) {
  const std::string path = dir_.File("export.csv");
  std::ofstream(path) << "old contents";
  ASSERT_EQ(ModeOf(path), 0644u);
  Result<std::FILE*> file = OpenPrivateFileForWriting(path);
  ASSERT_TRUE(file) << file.error().message;
  std::fputs("new", *file);
  std::fclose(*file);
  EXPECT_EQ(Contents(path), "new");
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST_F(PrivateFilesTest, OpenToOthersReportsGroupOrOtherAccess) {
  const std::string path = dir_.File("f");
  EXPECT_EQ(OpenToOthers(path), std::nullopt) << "a missing file";
  ASSERT_TRUE(CreatePrivateFile(path, "", IfExists::kFail));
  EXPECT_EQ(OpenToOthers(path), std::nullopt);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(OpenToOthers(path), 0640u);
  ASSERT_EQ(::chmod(path.c_str(), 0602), 0);
  EXPECT_EQ(OpenToOthers(path), 0602u);
}

TEST_F(PrivateFilesTest, ASystemErrorNamesThePath) {
  Status created = CreatePrivateFile(dir_.File("missing/f"), "", IfExists::kFail);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(created.error().message,
            "create " + dir_.File("missing/f") + ": No such file or directory");
}

}  // namespace
}  // namespace tginvite::core
