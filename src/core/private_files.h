// Files that only their owner may read: the SQLite database, the secret key file, exports. Their
// modes are set by this code (0600 for files, 0700 for the folders it creates), never left to the
// umask, which can only take permissions away from what is asked.
//
// Errors: kAlreadyExists when a file that must be new exists, kUnavailable for what the system
// refuses (the message names the path and the system's reason). Thread-compatible: the functions
// keep no state.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace tginvite::core {

// Creates `folder` and its missing parents; each folder created here is 0700. Folders that exist
// are left as they are.
Status CreatePrivateFolders(const std::filesystem::path& folder);

enum class IfExists {
  kKeep,  // leave the existing file as it is (nothing is written), and succeed
  kFail,  // kAlreadyExists
};

// Creates `path` (its folder must exist), 0600, holding `contents`, flushed to disk with its
// folder's entry: O_CREAT | O_EXCL, so two processes never both create it.
Status CreatePrivateFile(const std::string& path, std::string_view contents, IfExists if_exists);

// Replaces `path` with a 0600 file holding `contents`, atomically: readers see the old file or the
// new one, never a part, also across a crash (written to `path`.tmp, flushed, renamed, the folder
// flushed).
Status ReplacePrivateFile(const std::string& path, std::string_view contents);

// Renames `from` to `to` (replacing it) and flushes their folder, so the rename survives a crash.
Status RenameDurably(const std::string& from, const std::string& to);

// Opens `path` for writing, created 0600 or emptied and made 0600. The caller closes the stream.
Result<std::FILE*> OpenPrivateFileForWriting(const std::string& path);

// The permission bits of `path` when its group or other users have any access to it, else (and
// when it does not exist) std::nullopt.
std::optional<unsigned> OpenToOthers(const std::string& path);

}  // namespace tginvite::core
