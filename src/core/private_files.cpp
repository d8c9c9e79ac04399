#include "core/private_files.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tginvite::core {
namespace {

constexpr mode_t kPrivateFile = 0600;
constexpr mode_t kPrivateFolder = 0700;

Error SystemError(std::string_view what, const std::string& path, int error) {
  return Fail(ErrorCode::kUnavailable, "{} {}: {}", what, path, std::strerror(error));
}

// Closes a descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return SystemError("write", path, errno);
    }
    contents.remove_prefix(static_cast<size_t>(written));
  }
  return Ok();
}

Status SyncFolderOf(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  Fd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return SystemError("sync folder", folder, errno);
  return Ok();
}

// Writes and flushes `contents` into a file just opened for writing, after making it 0600.
Status FillPrivate(int fd, std::string_view contents, const std::string& path) {
  if (::fchmod(fd, kPrivateFile) != 0) return SystemError("chmod 600", path, errno);
  RETURN_IF_ERROR(WriteAll(fd, contents, path));
  if (::fsync(fd) != 0) return SystemError("sync", path, errno);
  return Ok();
}

}  // namespace

Status CreatePrivateFolders(const std::filesystem::path& folder) {
  std::error_code ec;
  if (folder.empty() || std::filesystem::is_directory(folder, ec)) return Ok();
  RETURN_IF_ERROR(CreatePrivateFolders(folder.parent_path()));
  if (::mkdir(folder.c_str(), kPrivateFolder) != 0) {
    if (errno == EEXIST) return Ok();
    return SystemError("create folder", folder.string(), errno);
  }
  if (::chmod(folder.c_str(), kPrivateFolder) != 0) {
    return SystemError("chmod 700", folder.string(), errno);
  }
  return Ok();
}

Status CreatePrivateFile(const std::string& path, std::string_view contents, IfExists if_exists) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFile));
  if (fd.get() < 0) {
    if (errno != EEXIST) return SystemError("create", path, errno);
    if (if_exists == IfExists::kKeep) return Ok();
    return Fail(ErrorCode::kAlreadyExists, "{} exists already", path);
  }
  RETURN_IF_ERROR(FillPrivate(fd.get(), contents, path));
  return SyncFolderOf(path);
}

Status ReplacePrivateFile(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp";
  {
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFile));
    if (fd.get() < 0) return SystemError("create", temp, errno);
    if (Status filled = FillPrivate(fd.get(), contents, temp); !filled) {
      ::unlink(temp.c_str());
      return filled;
    }
  }
  Status renamed = RenameDurably(temp, path);
  if (!renamed) ::unlink(temp.c_str());
  return renamed;
}

Status RenameDurably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return SystemError("rename to", to, errno);
  return SyncFolderOf(to);
}

Result<std::FILE*> OpenPrivateFileForWriting(const std::string& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kPrivateFile));
  if (fd.get() < 0) return SystemError("create", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && ::fchmod(fd.get(), kPrivateFile) != 0) {
    return SystemError("chmod 600", path, errno);
  }
  std::FILE* file = ::fdopen(fd.get(), "wb");
  if (file == nullptr) return SystemError("open", path, errno);
  fd.release();
  return file;
}

std::optional<unsigned> OpenToOthers(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  const unsigned mode = st.st_mode & 07777;
  if ((mode & 077) == 0) return std::nullopt;
  return mode;
}

}  // namespace tginvite::core
