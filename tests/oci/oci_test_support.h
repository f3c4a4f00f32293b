#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/oci/layer.h"
#include "core/oci/layout.h"

namespace kiln::oci::test {

/// One entry of a tar stream, as libarchive reads it back.
struct TarEntry {
  std::string path;  // without a trailing '/'
  EntryType type = EntryType::file;
  unsigned mode = 0;
  std::int64_t uid = -1;
  std::int64_t gid = -1;
  std::int64_t mtime = -1;
  bool hasAtime = false;
  bool hasCtime = false;
  std::string uname;
  std::string gname;
  std::string linkTarget;
  std::string content;
};

/// Reads a tar file, compressed with gzip or zstd or not at all.
std::vector<TarEntry> readTar(const std::filesystem::path& file);

/// A TCP port on 127.0.0.1 that was free a moment ago.
int freeLoopbackPort();

/// The file count of a directory tree (regular files only).
std::size_t countFiles(const std::filesystem::path& dir);

/// Sets a file's atime and mtime (seconds) without following symlinks.
void setTimes(const std::filesystem::path& path, std::int64_t atime,
              std::int64_t mtime);

/// Flips one byte in the middle of a file, keeping its size.
void corruptFile(const std::filesystem::path& file);

/// A docker-registry started with tests/support/registry.sh on a free
/// loopback port, stopped by the destructor.
class TestRegistry {
 public:
  /// `credentials` "USER:PASS" turns on htpasswd auth.
  explicit TestRegistry(const std::filesystem::path& dir,
                        const std::string& credentials = "");
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  /// "127.0.0.1:PORT".
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }

  /// Counts blob uploads started (POST .../blobs/uploads/ access-log lines,
  /// mount requests included).
  int uploadCount() const;

  /// Counts the uploads of blob sha256:`hex` that the registry completed
  /// (PUT .../blobs/uploads/...digest=... with status 201).
  int completedUploadsOf(const std::string& hex) const;

  /// Counts the cross-repository mounts of blob sha256:`hex` that the
  /// registry made (POST .../blobs/uploads/?mount=... with status 201).
  int mountsOf(const std::string& hex) const;

  /// The file where the registry stores a blob's bytes.
  std::filesystem::path blobData(const std::string& hex) const;

 private:
  std::filesystem::path dir_;
  int port_ = 0;
};

/// Builds an image named `name` in `layout` on the node20 base of
/// basesLayout(): the base's blobs are copied in, and one layer adds
/// /app/server.js (prints `message`), /app/data/hello.txt and the symlink
/// /app/current. The config runs `node /app/server.js` as 10001:10001.
/// Returns the manifest descriptor.
Descriptor buildAppImage(Layout& layout, const std::string& name,
                         Compression compression, const std::string& message);

/// The base image layout that the oci_build_bases test builds.
std::filesystem::path basesLayout();

/// The repository root.
std::filesystem::path sourceDir();

}  // namespace kiln::oci::test
