#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// A path pattern relative to a root, with '/' between segments. In a
/// segment, '*' matches any run of characters but '/', '?' one character and
/// "[abc]" or "[a-z]" one of a set ("[!a]" negates). A segment "**" matches
/// zero or more whole segments. Patterns never match "." or ".." segments.
class Glob {
 public:
  explicit Glob(std::string_view pattern);

  /// Returns true if `path` (relative, '/'-separated) matches the pattern.
  bool matches(std::string_view path) const;

  /// Returns true if some path below directory `dir` could match, so a walk
  /// must descend into it. The empty string is the root.
  bool mayMatchBelow(std::string_view dir) const;

  /// Returns true if every path below directory `dir` matches, as for an
  /// exclude pattern "node_modules/**".
  bool matchesAllBelow(std::string_view dir) const;

  /// The leading segments without wildcards ("apps/x" for "apps/x/src/**").
  std::string literalPrefix() const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::vector<std::string> segments_;
};

/// Returns true if one segment matches a segment pattern without "**".
bool matchSegment(std::string_view pattern, std::string_view text);

/// Returns true if the text has glob wildcard characters.
bool hasWildcard(std::string_view text);

/// Include and exclude globs: a path is in the set when it matches an
/// include and no exclude. Patterns starting with '!' are excludes.
class GlobSet {
 public:
  GlobSet() = default;
  explicit GlobSet(const std::vector<std::string>& patterns);

  bool matches(std::string_view path) const;
  bool shouldDescend(std::string_view dir) const;
  bool empty() const { return includes_.empty(); }

 private:
  std::vector<Glob> includes_;
  std::vector<Glob> excludes_;
};

}  // namespace kiln
