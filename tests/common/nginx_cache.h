#pragma once

#include <filesystem>
#include <string>

#include "tests/common/test_support.h"

namespace kiln::test {

/// An nginx WebDAV cache on 127.0.0.1, started with
/// tests/support/nginx-cache.sh in a fresh temporary folder and stopped on
/// destruction.
class NginxCache {
 public:
  /// Starts nginx on a free port, with basic auth when `basicAuth` is
  /// "USER:PASS".
  /// Throws std::runtime_error if it does not start after three ports.
  explicit NginxCache(const std::string& basicAuth = {});
  ~NginxCache();
  NginxCache(const NginxCache&) = delete;
  NginxCache& operator=(const NginxCache&) = delete;

  /// "http://127.0.0.1:PORT", with "/instance" when given.
  std::string url(const std::string& instance = {}) const;
  int port() const { return port_; }

  /// Where nginx stores PUT bodies: data/ac/KEY, data/INSTANCE/cas/KEY.
  std::filesystem::path dataDir() const { return dir_.path() / "data"; }

  /// The number of access.log lines whose request line starts with
  /// `method` ("PUT", "GET", "HEAD"), not counting log markers.
  int countRequests(const std::string& method) const;

  /// The access.log text, once every request that got a response is in it.
  std::string accessLog() const;

  /// Stops nginx now, so the destructor has nothing left to do.
  void stop();

 private:
  void waitForLog() const;

  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
  mutable int markers_ = 0;
};

}  // namespace kiln::test
