#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/sha256.h"

namespace kiln {

/// A remote cache base URL,
/// "http[s]://[user[:password]@]host[:port][/instance]", split into parts. The
/// optional path names an instance: bazel-remote and the nginx test cache
/// serve "/INSTANCE/ac/KEY" for it.
struct RemoteUrl {
  std::string scheme;    // "http" or "https"
  std::string host;      // as written, with an IPv6 address in brackets
  std::string port;      // digits, or empty for the scheme's default
  std::string instance;  // "" or segments joined by "/", no outer slashes
  std::string user;      // from the userinfo, percent-decoded
  std::string password;  // from the userinfo, percent-decoded

  /// Parses a base URL. Returns nullopt and sets `error` (which never
  /// contains the userinfo) for another scheme, an empty host, a bad port,
  /// a query or fragment, or an instance segment that is empty, "." or ".."
  /// or has characters outside [A-Za-z0-9._~-].
  static std::optional<RemoteUrl> parse(std::string_view text,
                                        std::string* error);

  /// The host without IPv6 brackets, as a netrc "machine" names it.
  std::string hostName() const;

  /// "scheme://host[:port]", never with credentials.
  std::string origin() const;

  /// The URL of one entry: origin, instance, then "ac" or "cas" and the
  /// digest in hexadecimal.
  std::string resourceUrl(std::string_view kind, const Digest& digest) const;

  /// The base URL without credentials, for messages and logs.
  std::string display() const;
};

/// Returns `url` with any userinfo replaced by "***", so that a URL that
/// failed to parse can still be shown in a message. Text that is not a URL
/// comes back unchanged.
std::string redactUrl(std::string_view url);

}  // namespace kiln
