#pragma once

#include <filesystem>
#include <string>

#include "tests/common/test_support.h"

namespace kiln::test {

/// Debian's docker-registry on a free 127.0.0.1 port, started with
/// tests/support/registry.sh in a fresh folder and stopped on destruction.
class Registry {
 public:
  /// With `htpasswd` ("USER:PASS"), clients must send basic auth.
  explicit Registry(const std::string& htpasswd = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// "127.0.0.1:PORT".
  std::string host() const;
  /// Where the registry keeps its blobs and manifests.
  std::filesystem::path dataDir() const { return dir_.path() / "data"; }
  /// Lines of the access log for blob upload starts (POST .../uploads/).
  int blobUploads() const;
  void stop();

 private:
  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
};

/// The base image layout of the bases fixture, as "oci:DIR:NAME".
std::string baseImage(const std::string& name);

}  // namespace kiln::test
