// Files that hold personal data (the database, its WAL, the effects log, the delivery log,
// backups) are created readable and writable by their owner only.
#pragma once

#include <string>

namespace ordo::util {

// The mode of a file this creates: 0600, read and write for the owner only.
inline constexpr unsigned kPrivateFileMode = 0600;

// Opens `path` with the open(2) `flags` (O_CREAT is implied, O_CLOEXEC added). A file this
// call creates gets mode 0600 whatever the process's umask; an existing file keeps its mode
// (its owner may have chosen it). Returns the descriptor, or -1 with errno set.
int open_private(const std::string& path, int flags);

}  // namespace ordo::util
