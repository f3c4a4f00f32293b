#include "cache/remote/remote_url.h"

#include <cctype>

#include "util/strings.h"

namespace kiln {

namespace {

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes, or returns false on a malformed escape.
bool percentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return false;
    }
    int high = hexDigit(text[i + 1]);
    int low = hexDigit(text[i + 2]);
    if (high < 0 || low < 0) {
      return false;
    }
    out->push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return true;
}

bool parseAuthority(std::string_view authority, RemoteUrl* url,
                    std::string* error) {
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::size_t colon = userinfo.find(':');
    bool ok = percentDecode(userinfo.substr(0, colon), &url->user);
    if (colon != std::string_view::npos) {
      ok = ok && percentDecode(userinfo.substr(colon + 1), &url->password);
    }
    if (!ok) {
      *error = "invalid percent escape in the user name or password";
      return false;
    }
  }

  std::string_view hostPort = authority;
  std::size_t portColon = std::string_view::npos;
  if (startsWith(hostPort, "[")) {
    std::size_t close = hostPort.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated IPv6 address";
      return false;
    }
    if (close + 1 < hostPort.size()) {
      if (hostPort[close + 1] != ':') {
        *error = "unexpected text after the IPv6 address";
        return false;
      }
      portColon = close + 1;
    }
  } else {
    portColon = hostPort.rfind(':');
  }
  url->host = std::string(hostPort.substr(0, portColon));
  if (portColon != std::string_view::npos) {
    url->port = std::string(hostPort.substr(portColon + 1));
  }

  if (url->host.empty() || url->host == "[]") {
    *error = "the host is empty";
    return false;
  }
  if (!url->port.empty()) {
    bool digits =
        url->port.size() <= 5 &&
        url->port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(url->port) < 1 || std::stoi(url->port) > 65535) {
      *error = "invalid port '" + url->port + "'; expected 1-65535";
      return false;
    }
  }
  return true;
}

bool parseInstance(std::string_view path, RemoteUrl* url, std::string* error) {
  while (startsWith(path, "/")) {
    path.remove_prefix(1);
  }
  while (endsWith(path, "/")) {
    path.remove_suffix(1);
  }
  if (path.empty()) {
    return true;
  }
  for (const std::string& segment : split(path, '/')) {
    bool valid = !segment.empty() && segment != "." && segment != "..";
    for (char c : segment) {
      valid = valid && isUnreserved(c);
    }
    if (!valid) {
      *error = "invalid instance name segment '" + segment +
               "'; use letters, digits and . _ ~ -";
      return false;
    }
  }
  url->instance = std::string(path);
  return true;
}

}  // namespace

std::optional<RemoteUrl> RemoteUrl::parse(std::string_view text,
                                          std::string* error) {
  RemoteUrl url;
  std::size_t schemeEnd = text.find("://");
  if (schemeEnd == std::string_view::npos) {
    *error = "expected a URL that starts with http:// or https://";
    return std::nullopt;
  }
  url.scheme = std::string(text.substr(0, schemeEnd));
  for (char& c : url.scheme) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (url.scheme != "http" && url.scheme != "https") {
    *error = "unsupported scheme '" + url.scheme + "'; use http or https";
    return std::nullopt;
  }

  std::string_view rest = text.substr(schemeEnd + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    *error = "a remote cache URL takes no query or fragment";
    return std::nullopt;
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);

  if (!parseAuthority(authority, &url, error) ||
      !parseInstance(path, &url, error)) {
    return std::nullopt;
  }
  return url;
}

std::string RemoteUrl::hostName() const {
  if (startsWith(host, "[") && endsWith(host, "]")) {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string RemoteUrl::origin() const {
  std::string text = scheme + "://" + host;
  if (!port.empty()) {
    text += ":" + port;
  }
  return text;
}

std::string RemoteUrl::resourceUrl(std::string_view kind,
                                   const Digest& digest) const {
  std::string text = origin() + "/";
  if (!instance.empty()) {
    text += instance + "/";
  }
  text += kind;
  text += "/";
  text += digest.hex();
  return text;
}

std::string RemoteUrl::display() const {
  if (instance.empty()) {
    return origin();
  }
  return origin() + "/" + instance;
}

std::string redactUrl(std::string_view url) {
  std::size_t schemeEnd = url.find("://");
  if (schemeEnd == std::string_view::npos) {
    return std::string(url);
  }
  std::size_t authorityStart = schemeEnd + 3;
  std::size_t authorityEnd = url.find_first_of("/?#", authorityStart);
  if (authorityEnd == std::string_view::npos) {
    authorityEnd = url.size();
  }
  std::string_view authority =
      url.substr(authorityStart, authorityEnd - authorityStart);
  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return std::string(url);
  }
  return std::string(url.substr(0, authorityStart)) + "***@" +
         std::string(url.substr(authorityStart + at + 1));
}

}  // namespace kiln
