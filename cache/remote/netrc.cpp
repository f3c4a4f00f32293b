#include "cache/remote/netrc.h"

#include <cctype>
#include <cstdlib>
#include <vector>

namespace kiln {

namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Splits netrc text into tokens, one pass, keeping the position so that a
// macdef body can be skipped.
class NetrcTokenizer {
 public:
  explicit NetrcTokenizer(std::string_view text) : text_(text) {}

  // Reads the next token, or returns false at the end of the text.
  bool next(std::string* token) {
    skipSpace();
    if (position_ >= text_.size()) {
      return false;
    }
    token->clear();
    if (text_[position_] == '"') {
      readQuoted(token);
    } else {
      while (position_ < text_.size() &&
             !std::isspace(static_cast<unsigned char>(text_[position_]))) {
        token->push_back(text_[position_++]);
      }
    }
    return true;
  }

  // Skips a macdef body: everything up to and including the next empty
  // line, or the rest of the text.
  void skipMacroBody() {
    std::size_t blank = text_.find("\n\n", position_);
    position_ = blank == std::string_view::npos ? text_.size() : blank + 2;
  }

 private:
  void skipSpace() {
    while (position_ < text_.size()) {
      char c = text_[position_];
      if (c == '#') {
        // A comment runs to the end of the line.
        std::size_t newline = text_.find('\n', position_);
        position_ = newline == std::string_view::npos ? text_.size() : newline;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++position_;
      } else {
        return;
      }
    }
  }

  void readQuoted(std::string* token) {
    ++position_;  // the opening quote
    while (position_ < text_.size() && text_[position_] != '"') {
      char c = text_[position_++];
      if (c == '\\' && position_ < text_.size()) {
        c = text_[position_++];
        if (c == 'n') {
          c = '\n';
        } else if (c == 't') {
          c = '\t';
        }
      }
      token->push_back(c);
    }
    if (position_ < text_.size()) {
      ++position_;  // the closing quote
    }
  }

  std::string_view text_;
  std::size_t position_ = 0;
};

// One machine or default entry.
struct NetrcEntry {
  bool isDefault = false;
  std::string machine;
  std::string login;
  std::string password;
};

std::vector<NetrcEntry> parseEntries(std::string_view text) {
  std::vector<NetrcEntry> entries;
  NetrcTokenizer tokenizer(text);
  std::string token;
  std::string value;
  while (tokenizer.next(&token)) {
    if (token == "machine") {
      entries.push_back({});
      tokenizer.next(&entries.back().machine);
    } else if (token == "default") {
      entries.push_back({});
      entries.back().isDefault = true;
    } else if (token == "login" || token == "password" || token == "account") {
      if (!tokenizer.next(&value) || entries.empty()) {
        continue;
      }
      if (token == "login") {
        entries.back().login = value;
      } else if (token == "password") {
        entries.back().password = value;
      }
    } else if (token == "macdef") {
      tokenizer.next(&value);
      tokenizer.skipMacroBody();
    }
    // Unknown tokens are skipped, as curl does.
  }
  return entries;
}

}  // namespace

std::optional<NetrcCredentials> findNetrcCredentials(std::string_view text,
                                                     std::string_view host) {
  std::vector<NetrcEntry> entries = parseEntries(text);
  const NetrcEntry* match = nullptr;
  for (const NetrcEntry& entry : entries) {
    if (!entry.isDefault && equalsIgnoringCase(entry.machine, host)) {
      match = &entry;
      break;
    }
  }
  if (match == nullptr) {
    for (const NetrcEntry& entry : entries) {
      if (entry.isDefault) {
        match = &entry;
        break;
      }
    }
  }
  if (match == nullptr || match->login.empty()) {
    return std::nullopt;
  }
  return NetrcCredentials{match->login, match->password};
}

std::filesystem::path defaultNetrcPath() {
  const char* netrc = std::getenv("NETRC");
  if (netrc != nullptr && *netrc != '\0') {
    return netrc;
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".netrc";
  }
  return {};
}

}  // namespace kiln
