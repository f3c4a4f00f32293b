#pragma once

#include <string>

namespace kiln {

/// Settings of the nginx configuration that serves a static site.
struct StaticSiteConfig {
  std::string service;  // name reported by /health
  int port = 8080;
  std::string root = "/usr/share/nginx/html";
  /// URL prefix of content-hashed assets, served as immutable.
  std::string hashedPrefix = "/_astro/";
};

/// Generates a complete nginx.conf for a static site that runs as a
/// non-root user: pid and temporary files directly under /tmp, logs to
/// stderr and stdout, no `user` or `daemon` directive, its own MIME types
/// (no include), gzip for text types, `Cache-Control: public,
/// max-age=31536000, immutable` under the hashed prefix, `no-cache` for
/// everything else (HTML included), and `GET /health` returning 200 JSON.
std::string staticSiteNginxConfig(const StaticSiteConfig& config);

}  // namespace kiln
