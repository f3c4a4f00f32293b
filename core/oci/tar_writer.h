#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/oci/compression.h"

struct archive;

namespace kiln::oci {

/// The kind of a tar entry.
enum class EntryType { directory, file, symlink };

/// The header fields of one tar entry. Everything not listed here (user and
/// group names, atime, ctime, device numbers, extended attributes) is left
/// out of the archive.
struct TarHeader {
  std::string path;  // relative, '/'-separated, UTF-8, no trailing '/'
  EntryType type = EntryType::file;
  unsigned mode = 0644;  // permission bits only
  unsigned uid = 0;
  unsigned gid = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
  std::int64_t size = 0;   // files only
  std::string linkTarget;  // symlinks only
};

/// Writes a deterministic tar stream with libarchive. The format is POSIX
/// pax in its restricted form: plain ustar headers, plus a pax extended
/// header only for entries that need one, such as long or non-ASCII names.
/// Records come in 10240-byte blocks as in GNU tar, and names are stored as
/// UTF-8 whatever the process locale is. Names must be valid UTF-8. Equal calls
/// give equal bytes.
class TarWriter {
 public:
  explicit TarWriter(ByteSink& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  /// Writes an entry's header; a file's data follows with writeData.
  void writeHeader(const TarHeader& header);

  /// Writes file data for the last header; the total must equal its size.
  void writeData(const void* data, std::size_t size);

  /// Writes a file entry whose data is the content of `source` (symlinks
  /// followed); the size comes from the open file. Throws std::runtime_error
  /// if `source` is not a regular file or changes size while it is read.
  void writeFile(TarHeader header, const std::filesystem::path& source);

  /// Writes a file entry from an open descriptor, as writeFile does; `name`
  /// is used in error messages. Does not close `fd`.
  void writeFile(TarHeader header, int fd, const std::filesystem::path& name);

  /// Writes a file entry with the given bytes.
  void writeBytes(TarHeader header, std::string_view content);

  /// Writes the end-of-archive records and the last block; call once.
  void finish();

 private:
  [[noreturn]] void fail(const std::string& what);
  static long writeCallback(struct archive*, void* client, const void* data,
                            std::size_t size);

  ByteSink& out_;
  struct archive* archive_;
  std::exception_ptr sinkError_;
  bool finished_ = false;
};

}  // namespace kiln::oci
