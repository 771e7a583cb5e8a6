#include "util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ordo::util {

int open_private(const std::string& path, int flags) {
  flags = (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC;
  const int created = ::open(path.c_str(), flags | O_CREAT | O_EXCL, kPrivateFileMode);
  if (created >= 0) {
    // The umask may have taken bits away (0400 under umask 0277); 0600 it is.
    if (::fchmod(created, kPrivateFileMode) != 0) {
      const int error = errno;
      ::close(created);
      errno = error;
      return -1;
    }
    return created;
  }
  if (errno != EEXIST) return -1;
  return ::open(path.c_str(), flags);
}

}  // namespace ordo::util
