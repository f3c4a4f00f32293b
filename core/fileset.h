#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/stat_cache.h"
#include "util/glob.h"
#include "util/sha256.h"

namespace kiln {

/// One input file of a step, as the action key sees it.
struct InputFile {
  std::string path;  // relative to the repository root
  bool symlink = false;
  bool executable = false;
  Digest digest;  // of the content, or of the link text for a symlink
};

/// Calls `visit(relativePath, lstat)` for every file and symlink below
/// `root` that `globs` selects, in sorted order, without following
/// symlinks. Directories excluded by the globs are not entered.
void walkFiles(
    const std::filesystem::path& root, const GlobSet& globs,
    const std::function<void(const std::string&, const struct stat&)>& visit);

/// Lists and fingerprints a step's inputs. Files whose stat data is
/// unchanged are not read (the stat cache has their digest); the others are
/// hashed in parallel.
std::vector<InputFile> fingerprintInputs(const std::filesystem::path& root,
                                         const std::vector<std::string>& globs,
                                         StatCache& statCache);

}  // namespace kiln
