#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

/// A login and password for one host, read from a netrc file.
struct NetrcCredentials {
  std::string login;
  std::string password;
};

/// Finds the credentials for `host` in the text of a netrc file: the first
/// "machine" entry whose name equals `host` (ignoring case), else the
/// "default" entry. Returns nullopt when neither exists or the entry has no
/// login. Understands the tokens machine, default, login, password, account
/// and macdef (whose body, up to the next empty line, is skipped), and
/// double-quoted values with backslash escapes as curl 7.84 and later do.
std::optional<NetrcCredentials> findNetrcCredentials(std::string_view text,
                                                     std::string_view host);

/// The netrc file to read: $NETRC when set and not empty, else
/// $HOME/.netrc, or empty when neither variable is set.
std::filesystem::path defaultNetrcPath();

}  // namespace kiln
