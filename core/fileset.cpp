#include "core/fileset.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>

#include "util/thread_pool.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

void walkDirectory(
    const std::string& absolute, const std::string& relative,
    const GlobSet& globs,
    const std::function<void(const std::string&, const struct stat&)>& visit) {
  DIR* dir = ::opendir(absolute.c_str());
  if (dir == nullptr) {
    return;
  }
  std::vector<std::pair<std::string, unsigned char>> children;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    children.emplace_back(std::move(name), entry->d_type);
  }
  ::closedir(dir);
  std::sort(children.begin(), children.end());

  for (const auto& [name, type] : children) {
    std::string childAbsolute = absolute + "/" + name;
    std::string childRelative = relative.empty() ? name : relative + "/" + name;
    bool isDir = type == DT_DIR;
    struct stat info;
    if (type == DT_UNKNOWN) {
      if (::lstat(childAbsolute.c_str(), &info) != 0) {
        continue;
      }
      isDir = S_ISDIR(info.st_mode);
    }
    if (isDir) {
      if (globs.shouldDescend(childRelative)) {
        walkDirectory(childAbsolute, childRelative, globs, visit);
      }
      continue;
    }
    if (!globs.matches(childRelative)) {
      continue;
    }
    if (type != DT_UNKNOWN && ::lstat(childAbsolute.c_str(), &info) != 0) {
      continue;
    }
    if (S_ISREG(info.st_mode) || S_ISLNK(info.st_mode)) {
      visit(childRelative, info);
    }
  }
}

}  // namespace

void walkFiles(
    const fs::path& root, const GlobSet& globs,
    const std::function<void(const std::string&, const struct stat&)>& visit) {
  if (globs.empty()) {
    return;
  }
  walkDirectory(root.string(), "", globs, visit);
}

std::vector<InputFile> fingerprintInputs(const fs::path& root,
                                         const std::vector<std::string>& globs,
                                         StatCache& statCache) {
  std::vector<InputFile> inputs;
  std::vector<struct stat> stats;
  walkFiles(root, GlobSet(globs),
            [&](const std::string& path, const struct stat& info) {
              InputFile input;
              input.path = path;
              input.symlink = S_ISLNK(info.st_mode);
              input.executable = !input.symlink && (info.st_mode & 0111) != 0;
              inputs.push_back(std::move(input));
              stats.push_back(info);
            });

  std::string base = root.string() + "/";
  std::vector<std::size_t> toHash;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].symlink) {
      std::string target = fs::read_symlink(base + inputs[i].path).string();
      inputs[i].digest = sha256(target);
    } else if (auto known = statCache.lookup(base + inputs[i].path, stats[i])) {
      inputs[i].digest = *known;
    } else {
      toHash.push_back(i);
    }
  }
  parallelFor(toHash.size(), [&](std::size_t n) {
    std::size_t i = toHash[n];
    inputs[i].digest = statCache.digest(base + inputs[i].path, stats[i]);
  });
  return inputs;
}

}  // namespace kiln
