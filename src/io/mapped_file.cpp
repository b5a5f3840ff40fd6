#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

[[noreturn]] void throw_os_error(const std::string& what, const std::string& path, int error) {
  throw Error(ErrorKind::runtime, what + " '" + path + "': " + std::strerror(error));
}

// Closes the descriptor on every path out of open(): the mapping does not need it.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const FileDescriptor file{::open(name.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw_os_error("cannot open", name, errno);
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw_os_error("cannot stat", name, errno);
  if (!S_ISREG(info.st_mode))
    throw Error(ErrorKind::runtime, "cannot map '" + name + "': not a regular file");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size == 0) return std::shared_ptr<const MappedFile>(new MappedFile(name, nullptr, 0));
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (data == MAP_FAILED) throw_os_error("cannot map", name, errno);
  return std::shared_ptr<const MappedFile>(
      new MappedFile(name, static_cast<const std::byte*>(data), size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace rank_rerank::io
