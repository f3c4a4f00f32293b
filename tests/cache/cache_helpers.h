#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/common/test_support.h"

namespace kiln::test {

/// Counts the progress lines of one status ("built", "cached", "up to date")
/// in kiln's plain output.
inline int countStatus(const std::string& output, const std::string& status) {
  int count = 0;
  std::size_t position = 0;
  std::string needle = "] " + status + " ";
  while ((position = output.find(needle, position)) != std::string::npos) {
    ++count;
    position += needle.size();
  }
  return count;
}

/// Returns true if the plain output has a line for this step and status.
inline bool hasStatus(const std::string& output, const std::string& status,
                      const std::string& step) {
  return output.find("] " + status + " " + step + " ") != std::string::npos;
}

/// Runs `kiln build --output plain` with a private cache directory.
inline RunResult build(const std::filesystem::path& dir,
                       const std::filesystem::path& cache,
                       std::vector<std::string> extra = {},
                       std::map<std::string, std::string> env = {}) {
  std::vector<std::string> args = {"build", "--output", "plain"};
  args.insert(args.end(), extra.begin(), extra.end());
  env["KILN_CACHE_DIR"] = cache.string();
  return runKiln(args, dir, env);
}

inline unsigned fileMode(const std::filesystem::path& path) {
  return static_cast<unsigned>(std::filesystem::status(path).permissions()) &
         07777;
}

}  // namespace kiln::test
