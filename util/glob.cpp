#include "util/glob.h"

#include "util/strings.h"

namespace kiln {

namespace {

std::vector<std::string> pathSegments(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty()) {
    return segments;
  }
  for (auto& segment : split(path, '/')) {
    if (!segment.empty() && segment != ".") {
      segments.push_back(std::move(segment));
    }
  }
  return segments;
}

bool matchClass(std::string_view pattern, std::size_t* index, char c) {
  std::size_t i = *index + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' &&
        pattern[i + 2] != ']') {
      if (pattern[i] <= c && c <= pattern[i + 2]) {
        found = true;
      }
      i += 3;
    } else {
      if (pattern[i] == c) {
        found = true;
      }
      ++i;
    }
  }
  *index = i;  // at ']' or the end
  return found != negate;
}

// Matches segment patterns against path segments from positions p and s.
bool matchFrom(const std::vector<std::string>& pattern, std::size_t p,
               const std::vector<std::string>& path, std::size_t s) {
  while (p < pattern.size()) {
    if (pattern[p] == "**") {
      for (std::size_t next = s; next <= path.size(); ++next) {
        if (matchFrom(pattern, p + 1, path, next)) {
          return true;
        }
        if (next < path.size() && (path[next] == ".." || path[next] == ".")) {
          return false;
        }
      }
      return false;
    }
    if (s >= path.size() || !matchSegment(pattern[p], path[s])) {
      return false;
    }
    ++p;
    ++s;
  }
  return s == path.size();
}

// Returns true if the path segments can be a prefix of a matching path.
bool prefixFrom(const std::vector<std::string>& pattern, std::size_t p,
                const std::vector<std::string>& path, std::size_t s) {
  if (s == path.size()) {
    return p < pattern.size();
  }
  if (p == pattern.size()) {
    return false;
  }
  if (pattern[p] == "**") {
    return true;
  }
  return matchSegment(pattern[p], path[s]) &&
         prefixFrom(pattern, p + 1, path, s + 1);
}

}  // namespace

bool hasWildcard(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

bool matchSegment(std::string_view pattern, std::string_view text) {
  if (text == "." || text == "..") {
    return false;
  }
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t starPattern = std::string_view::npos;
  std::size_t starText = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      starPattern = p++;
      starText = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pattern[p] == '[') {
        std::size_t end = p;
        if (matchClass(pattern, &end, text[t])) {
          p = end + 1;
          ++t;
          continue;
        }
      } else if (pattern[p] == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (starPattern == std::string_view::npos) {
      return false;
    }
    p = starPattern + 1;
    t = ++starText;
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

Glob::Glob(std::string_view pattern)
    : pattern_(pattern), segments_(pathSegments(pattern)) {}

bool Glob::matches(std::string_view path) const {
  return matchFrom(segments_, 0, pathSegments(path), 0);
}

bool Glob::mayMatchBelow(std::string_view dir) const {
  return prefixFrom(segments_, 0, pathSegments(dir), 0);
}

bool Glob::matchesAllBelow(std::string_view dir) const {
  if (segments_.empty() || segments_.back() != "**") {
    return false;
  }
  std::vector<std::string> head(segments_.begin(), segments_.end() - 1);
  std::vector<std::string> path = pathSegments(dir);
  for (std::size_t length = 0; length <= path.size(); ++length) {
    std::vector<std::string> prefix(path.begin(), path.begin() + length);
    if (matchFrom(head, 0, prefix, 0)) {
      return true;
    }
  }
  return false;
}

std::string Glob::literalPrefix() const {
  std::vector<std::string> literal;
  for (const auto& segment : segments_) {
    if (segment == "**" || hasWildcard(segment)) {
      break;
    }
    literal.push_back(segment);
  }
  return join(literal, "/");
}

GlobSet::GlobSet(const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    if (startsWith(pattern, "!")) {
      excludes_.emplace_back(std::string_view(pattern).substr(1));
    } else {
      includes_.emplace_back(pattern);
    }
  }
}

bool GlobSet::matches(std::string_view path) const {
  bool included = false;
  for (const auto& glob : includes_) {
    if (glob.matches(path)) {
      included = true;
      break;
    }
  }
  if (!included) {
    return false;
  }
  // An exclude that matches a directory excludes everything below it, as in
  // a .gitignore file.
  for (std::size_t end = path.find('/'); end != std::string_view::npos;
       end = path.find('/', end + 1)) {
    if (!shouldDescend(path.substr(0, end))) {
      return false;
    }
  }
  for (const auto& glob : excludes_) {
    if (glob.matches(path)) {
      return false;
    }
  }
  return true;
}

bool GlobSet::shouldDescend(std::string_view dir) const {
  for (const auto& glob : excludes_) {
    if (glob.matches(dir) || glob.matchesAllBelow(dir)) {
      return false;
    }
  }
  for (const auto& glob : includes_) {
    if (glob.mayMatchBelow(dir)) {
      return true;
    }
  }
  return false;
}

}  // namespace kiln
