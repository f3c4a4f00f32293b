#include "core/outputs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/glob.h"
#include "util/strings.h"
#include "util/thread_pool.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

struct WalkedEntry {
  std::string path;
  struct stat info;
};

// A step's declared outputs: the paths it writes, and "!" globs for paths
// below them that are not its outputs (caches that later steps write into
// node_modules, for example), which are neither stored nor restored nor
// removed.
struct OutputSet {
  std::vector<std::string> roots;
  std::vector<Glob> excludes;

  explicit OutputSet(const std::vector<std::string>& outputs) {
    for (const auto& output : outputs) {
      if (!output.empty() && output.front() == '!') {
        excludes.emplace_back(std::string_view(output).substr(1));
      } else {
        roots.push_back(output);
      }
    }
    std::sort(roots.begin(), roots.end());
  }

  bool excluded(const std::string& path) const {
    for (const auto& glob : excludes) {
      if (glob.matches(path)) {
        return true;
      }
    }
    return false;
  }
};

// One entry of a directory listing, with the type that getdents reports
// (DT_UNKNOWN on file systems that do not).
struct ListedEntry {
  std::string name;
  unsigned char type;
  bool operator<(const ListedEntry& other) const { return name < other.name; }
};

// Lists an open directory without "." and "..", sorted by name. It calls
// getdents64 directly, because opendir would add an fstat and an fcntl per
// directory, and node_modules has thousands of directories.
std::vector<ListedEntry> listDirectory(int fd) {
  std::vector<ListedEntry> entries;
  alignas(8) thread_local char buffer[32 * 1024];
  while (true) {
    ssize_t size = ::getdents64(fd, buffer, sizeof buffer);
    if (size <= 0) {
      break;
    }
    for (ssize_t offset = 0; offset < size;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") {
        entries.push_back({std::string(name), entry->d_type});
      }
    }
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

// Adds the stat data of one walked entry to the output signature: path
// and mode, and for a file or symlink its size, times and inode.
void addToSignature(std::string& buffer, const std::string& path,
                    const struct stat& info) {
  auto append = [&buffer](const auto& value) {
    buffer.append(reinterpret_cast<const char*>(&value), sizeof value);
  };
  FileStamp stamp = FileStamp::of(info);
  buffer += path;
  buffer += '\0';
  append(stamp.mode);
  // A directory's times change whenever a file is created or removed in
  // it, even a temporary one, and the walk already lists which entries exist.
  if (S_ISDIR(info.st_mode)) {
    return;
  }
  append(stamp.size);
  append(stamp.mtimeNs);
  append(stamp.ctimeNs);
  append(stamp.inode);
}

// Collectors of walked entries: the whole entries for a snapshot, or only
// the signature bytes for the no-op check, which then allocates almost
// nothing per file.
struct EntryList {
  std::vector<WalkedEntry> entries;
  void add(const std::string& path, const struct stat& info) {
    entries.push_back({path, info});
  }
  void append(EntryList&& other) {
    std::move(other.entries.begin(), other.entries.end(),
              std::back_inserter(entries));
  }
};

struct SignatureBytes {
  std::string buffer;
  void add(const std::string& path, const struct stat& info) {
    addToSignature(buffer, path, info);
  }
  void append(SignatureBytes&& other) { buffer += other.buffer; }
};

template <typename Sink>
void walkEntry(int parentFd, const std::string& name, unsigned char type,
               const std::string& relative, const OutputSet& outputs,
               bool parallel, Sink& sink);

// Adds everything below the directory open as `fd` to `sink`, in path
// order, and closes `fd`. Each lookup is relative to an open directory, so
// the kernel resolves one name, not the whole path again. With `parallel`,
// the subtrees of the children are walked on the shared pool, because a
// no-op build stats every file of node_modules.
template <typename Sink>
void walkDirectory(int fd, const std::string& relative,
                   const OutputSet& outputs, bool parallel, Sink& sink) {
  std::vector<ListedEntry> children = listDirectory(fd);
  if (parallel && children.size() > 1) {
    std::vector<Sink> parts(children.size());
    parallelFor(children.size(), [&](std::size_t i) {
      walkEntry(fd, children[i].name, children[i].type,
                relative + "/" + children[i].name, outputs, false, parts[i]);
    });
    for (auto& part : parts) {
      sink.append(std::move(part));
    }
  } else {
    for (const auto& child : children) {
      walkEntry(fd, child.name, child.type, relative + "/" + child.name,
                outputs, false, sink);
    }
  }
  ::close(fd);
}

// Adds `relative` (named `name` in the directory `parentFd`, of the type
// `type` from its listing) and everything below it to `sink`. A directory
// is opened without following symlinks and stat'ed through its descriptor.
template <typename Sink>
void walkEntry(int parentFd, const std::string& name, unsigned char type,
               const std::string& relative, const OutputSet& outputs,
               bool parallel, Sink& sink) {
  if (outputs.excluded(relative)) {
    return;
  }
  struct stat info;
  if (type == DT_DIR) {
    int fd = ::openat(parentFd, name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && ::fstat(fd, &info) == 0) {
      sink.add(relative, info);
      walkDirectory(fd, relative, outputs, parallel, sink);
      return;
    }
    if (fd >= 0) {
      ::close(fd);
    }
  }
  // Anything else, or a directory replaced since it was listed.
  if (::fstatat(parentFd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  sink.add(relative, info);
  if (!S_ISDIR(info.st_mode)) {
    return;
  }
  int fd = ::openat(parentFd, name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    walkDirectory(fd, relative, outputs, parallel, sink);
  }
}

template <typename Sink>
void walkOutputs(const fs::path& root, const std::vector<std::string>& outputs,
                 Sink& sink) {
  OutputSet set(outputs);
  int rootFd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) {
    return;
  }
  for (const auto& output : set.roots) {
    walkEntry(rootFd, output, DT_UNKNOWN, output, set, true, sink);
  }
  ::close(rootFd);
}

std::vector<WalkedEntry> walkOutputs(const fs::path& root,
                                     const std::vector<std::string>& outputs) {
  EntryList list;
  walkOutputs(root, outputs, list);
  return std::move(list.entries);
}

Digest signatureOf(const std::vector<WalkedEntry>& entries) {
  std::string buffer;
  buffer.reserve(entries.size() * 96);
  for (const auto& entry : entries) {
    addToSignature(buffer, entry.path, entry.info);
  }
  return sha256(buffer);
}

// Opens a path below `rootFd` without following any symlink and without
// leaving the root.
int openBeneath(int rootFd, const std::string& path, int flags,
                unsigned mode = 0) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
  return static_cast<int>(
      ::syscall(SYS_openat2, rootFd, path.c_str(), &how, sizeof how));
}

std::string parentOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string nameOf(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Creates the directories of `path` that are missing, never through a
// symlink. Returns false if a component is a symlink or not a directory.
bool makeDirectories(int rootFd, const std::string& path) {
  std::string prefix;
  for (const auto& segment : split(path, '/')) {
    prefix = prefix.empty() ? segment : prefix + "/" + segment;
    int fd = openBeneath(rootFd, prefix, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      ::close(fd);
      continue;
    }
    if (errno != ENOENT) {
      return false;
    }
    int parent = openBeneath(rootFd, parentOf(prefix), O_RDONLY | O_DIRECTORY);
    if (parent < 0) {
      return false;
    }
    int made = ::mkdirat(parent, nameOf(prefix).c_str(), 0755);
    int error = errno;
    ::close(parent);
    if (made != 0 && error != EEXIST) {
      return false;
    }
  }
  return true;
}

// Removes a path (recursively for a directory) without following symlinks.
void removePath(const fs::path& path) {
  std::error_code error;
  fs::remove_all(path, error);
}

}  // namespace

OutputSnapshot snapshotOutputs(const fs::path& root,
                               const std::vector<std::string>& outputs,
                               StatCache& statCache) {
  std::vector<WalkedEntry> walked = walkOutputs(root, outputs);
  OutputSnapshot snapshot;
  snapshot.signature = signatureOf(walked);
  snapshot.manifest.entries.resize(walked.size());
  std::string base = root.string() + "/";
  for (std::size_t i = 0; i < walked.size(); ++i) {
    const auto& [path, info] = walked[i];
    TreeEntry& entry = snapshot.manifest.entries[i];
    entry.path = path;
    entry.mode = info.st_mode & 0777;
    if (S_ISDIR(info.st_mode)) {
      entry.type = EntryType::kDirectory;
    } else if (S_ISLNK(info.st_mode)) {
      entry.type = EntryType::kSymlink;
      entry.mode = 0777;
      entry.target = fs::read_symlink(base + path).string();
    } else if (S_ISREG(info.st_mode)) {
      entry.type = EntryType::kFile;
      entry.size = static_cast<std::uint64_t>(info.st_size);
    } else {
      throw UsageError("output " + base + path +
                           " is neither a file, a directory nor a symlink",
                       "make the step remove sockets, pipes and device files "
                       "from its outputs");
    }
  }
  parallelFor(walked.size(), [&](std::size_t i) {
    TreeEntry& entry = snapshot.manifest.entries[i];
    if (entry.type == EntryType::kFile) {
      entry.digest = statCache.digest(base + entry.path, walked[i].info);
    }
  });
  return snapshot;
}

Digest outputSignature(const fs::path& root,
                       const std::vector<std::string>& outputs) {
  SignatureBytes bytes;
  walkOutputs(root, outputs, bytes);
  return sha256(bytes.buffer);
}

void storeOutputs(const fs::path& root, const TreeManifest& manifest,
                  LocalStore& store) {
  std::string base = root.string() + "/";
  std::vector<const TreeEntry*> files;
  for (const auto& entry : manifest.entries) {
    if (entry.type == EntryType::kFile && !store.hasBlob(entry.digest)) {
      files.push_back(&entry);
    }
  }
  parallelFor(files.size(), [&](std::size_t i) {
    store.putFile(base + files[i]->path, files[i]->digest);
  });
}

std::string validateManifest(const TreeManifest& manifest,
                             const std::vector<std::string>& outputs) {
  OutputSet set(outputs);
  std::set<std::string> symlinks;
  std::set<std::string> seen;
  for (const auto& entry : manifest.entries) {
    std::string problem = validateEntryPath(entry.path, set.roots);
    if (!problem.empty()) {
      return "entry '" + entry.path + "': " + problem;
    }
    if (set.excluded(entry.path)) {
      return "entry '" + entry.path + "' is excluded from the outputs";
    }
    if (!seen.insert(entry.path).second) {
      return "entry '" + entry.path + "' appears twice";
    }
    if (entry.type == EntryType::kSymlink) {
      symlinks.insert(entry.path);
    }
  }
  for (const auto& entry : manifest.entries) {
    for (std::string parent = parentOf(entry.path); parent != ".";
         parent = parentOf(parent)) {
      if (symlinks.count(parent) > 0) {
        return "entry '" + entry.path + "' lies below the symlink '" + parent +
               "'";
      }
    }
  }
  return {};
}

void removeOutputs(const fs::path& root,
                   const std::vector<std::string>& outputs) {
  for (const auto& output : OutputSet(outputs).roots) {
    removePath(root / output);
  }
}

RestoreResult restoreOutputs(const fs::path& root,
                             const std::vector<std::string>& outputs,
                             const TreeManifest& manifest, LocalStore& store,
                             StatCache& statCache) {
  RestoreResult result;
  result.error = validateManifest(manifest, outputs);
  if (!result.error.empty()) {
    return result;
  }
  int rootFd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) {
    result.error = "cannot open " + root.string();
    return result;
  }
  struct CloseRoot {
    int fd;
    ~CloseRoot() { ::close(fd); }
  } closeRoot{rootFd};

  // Remove what the manifest does not have, or has with another type.
  std::map<std::string, const TreeEntry*> wanted;
  for (const auto& entry : manifest.entries) {
    wanted[entry.path] = &entry;
  }
  std::string base = root.string() + "/";
  for (const auto& found : walkOutputs(root, outputs)) {
    auto it = wanted.find(found.path);
    bool keep = false;
    if (it != wanted.end()) {
      mode_t type = found.info.st_mode & S_IFMT;
      keep = (it->second->type == EntryType::kDirectory && type == S_IFDIR) ||
             (it->second->type == EntryType::kFile && type == S_IFREG) ||
             (it->second->type == EntryType::kSymlink && type == S_IFLNK);
    }
    if (!keep) {
      removePath(base + found.path);
    }
  }

  // Directories first, in path order, so parents exist before children.
  for (const auto& output : OutputSet(outputs).roots) {
    std::string parent = parentOf(output);
    if (parent != "." && !makeDirectories(rootFd, parent)) {
      result.error = "cannot create " + parent + " without following a link";
      return result;
    }
  }
  std::vector<const TreeEntry*> others;
  for (const auto& entry : manifest.entries) {
    if (entry.type == EntryType::kDirectory) {
      if (!makeDirectories(rootFd, entry.path)) {
        result.error = "cannot create directory " + entry.path;
        return result;
      }
    } else {
      others.push_back(&entry);
    }
  }

  std::mutex errorMutex;
  std::atomic<std::size_t> written{0};
  std::atomic<std::size_t> skipped{0};
  auto fail = [&](const std::string& message) {
    std::lock_guard lock(errorMutex);
    if (result.error.empty()) {
      result.error = message;
    }
  };
  parallelFor(others.size(), [&](std::size_t i) {
    const TreeEntry& entry = *others[i];
    std::string absolute = base + entry.path;
    struct stat info;
    bool exists = ::lstat(absolute.c_str(), &info) == 0;
    int parent =
        openBeneath(rootFd, parentOf(entry.path), O_RDONLY | O_DIRECTORY);
    if (parent < 0) {
      fail("cannot open the directory of " + entry.path +
           " without following a link");
      return;
    }
    struct CloseParent {
      int fd;
      ~CloseParent() { ::close(fd); }
    } closeParent{parent};
    std::string name = nameOf(entry.path);

    if (entry.type == EntryType::kSymlink) {
      if (exists && S_ISLNK(info.st_mode) &&
          fs::read_symlink(absolute).string() == entry.target) {
        ++skipped;
        return;
      }
      ::unlinkat(parent, name.c_str(), 0);
      if (::symlinkat(entry.target.c_str(), parent, name.c_str()) != 0) {
        fail("cannot create symlink " + entry.path);
        return;
      }
      ++written;
      return;
    }

    if (exists && S_ISREG(info.st_mode) &&
        static_cast<std::uint64_t>(info.st_size) == entry.size &&
        statCache.digest(absolute, info) == entry.digest) {
      if ((info.st_mode & 07777) != entry.mode) {
        ::fchmodat(parent, name.c_str(), entry.mode, 0);
      }
      ++skipped;
      return;
    }
    std::string temporary = "." + name + ".kiln-restore";
    int fd =
        ::openat(parent, temporary.c_str(),
                 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      fail("cannot write " + entry.path);
      return;
    }
    BlobRead read = store.readToFd(entry.digest, fd);
    struct stat written_info;
    bool ok = read == BlobRead::kOk && ::fchmod(fd, entry.mode) == 0 &&
              ::fstat(fd, &written_info) == 0;
    ::close(fd);
    if (!ok ||
        ::renameat(parent, temporary.c_str(), parent, name.c_str()) != 0) {
      ::unlinkat(parent, temporary.c_str(), 0);
      fail(read == BlobRead::kOk
               ? "cannot write " + entry.path
               : "blob " + entry.digest.hex() + " of " + entry.path +
                     (read == BlobRead::kMissing ? " is missing"
                                                 : " is corrupt"));
      return;
    }
    statCache.remember(absolute, written_info, entry.digest);
    ++written;
  });
  if (!result.error.empty()) {
    return result;
  }

  // Directory modes last, so a read-only directory can still be filled.
  for (auto it = manifest.entries.rbegin(); it != manifest.entries.rend();
       ++it) {
    if (it->type == EntryType::kDirectory) {
      int fd = openBeneath(rootFd, it->path, O_RDONLY | O_DIRECTORY);
      if (fd >= 0) {
        ::fchmod(fd, it->mode);
        ::close(fd);
      }
    }
  }
  result.ok = true;
  result.written = written;
  result.skipped = skipped;
  return result;
}

}  // namespace kiln
