#include "core/oci/layer.h"

#include "core/oci/layer_stream.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "util/error.h"
#include "util/strings.h"

namespace kiln::oci {

namespace fs = std::filesystem;

namespace {

constexpr unsigned kPermissionBits = 0777;

// Orders paths segment by segment ("a" < "a/b" < "a.txt"), as a sorted
// directory walk and GNU tar's --sort=name do. Mapping '/' below every other
// byte gives that order without splitting the strings.
bool pathLess(const std::string& a, const std::string& b) {
  std::size_t length = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < length; ++i) {
    unsigned ca = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
    unsigned cb = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
    if (ca != cb) {
      return ca < cb;
    }
  }
  return a.size() < b.size();
}

const char* typeName(EntryType type) {
  switch (type) {
    case EntryType::directory:
      return "directory";
    case EntryType::file:
      return "file";
    case EntryType::symlink:
      return "symlink";
  }
  return "entry";
}

// Normalizes paths and modes, drops exact duplicate directories, rejects
// other duplicates and adds missing parent directories.
std::vector<LayerEntry> canonicalEntries(std::vector<LayerEntry> entries) {
  for (auto& entry : entries) {
    entry.path = normalizeImagePath(entry.path);
    entry.mode &= kPermissionBits;
  }
  std::map<std::string, const LayerEntry*> byPath;
  for (const auto& entry : entries) {
    auto [it, inserted] = byPath.emplace(entry.path, &entry);
    if (inserted) {
      continue;
    }
    const LayerEntry& other = *it->second;
    bool sameDirectory = entry.type == EntryType::directory &&
                         other.type == EntryType::directory &&
                         entry.mode == other.mode && entry.uid == other.uid &&
                         entry.gid == other.gid;
    if (!sameDirectory) {
      throw UsageError("the layer has two entries for '" + entry.path +
                           "' (a " + typeName(other.type) + " and a " +
                           typeName(entry.type) + ")",
                       "give each path in the image once");
    }
  }

  std::vector<LayerEntry> result;
  result.reserve(byPath.size());
  std::map<std::string, const LayerEntry*> parents;
  for (const auto& [path, entry] : byPath) {
    result.push_back(*entry);
    for (std::size_t slash = path.rfind('/'); slash != std::string::npos;
         slash = path.rfind('/', slash - 1)) {
      std::string parent = path.substr(0, slash);
      auto existing = byPath.find(parent);
      if (existing != byPath.end()) {
        if (existing->second->type != EntryType::directory) {
          throw UsageError(
              "'" + path + "' is inside '" + parent + "', which is a " +
                  typeName(existing->second->type) + " in the same layer",
              "make '" + parent + "' a directory or move '" + path + "'");
        }
        break;
      }
      if (!parents.emplace(parent, entry).second || slash == 0) {
        break;
      }
    }
  }
  for (const auto& [path, child] : parents) {
    LayerEntry parent;
    parent.path = path;
    parent.type = EntryType::directory;
    parent.mode = 0755;
    result.push_back(std::move(parent));
  }
  std::sort(result.begin(), result.end(),
            [](const LayerEntry& a, const LayerEntry& b) {
              return pathLess(a.path, b.path);
            });
  return result;
}

}  // namespace

std::string normalizeImagePath(std::string_view path) {
  if (!isValidUtf8(path)) {
    throw UsageError("invalid path '" + std::string(path) +
                         "' in an image layer: it is not valid UTF-8",
                     "rename the file so that its name is UTF-8");
  }
  std::vector<std::string> kept;
  for (auto& segment : split(path, '/')) {
    if (segment.empty()) {
      continue;  // leading, trailing or doubled '/'
    }
    kept.push_back(std::move(segment));
  }
  // A single leading "./" is the usual way to write a relative path.
  if (!kept.empty() && kept.front() == "." && startsWith(path, "./")) {
    kept.erase(kept.begin());
  }
  if (kept.empty()) {
    throw UsageError("invalid path '" + std::string(path) +
                         "' in an image layer: it names the root",
                     "give a path below the root, such as 'app/main.js'");
  }
  for (const auto& segment : kept) {
    if (segment == "." || segment == "..") {
      throw UsageError("invalid path '" + std::string(path) +
                           "' in an image layer: '" + segment +
                           "' segments are not allowed",
                       "give the path without '.' or '..' segments");
    }
  }
  return join(kept, "/");
}

bool isValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xe  ? 3
                         : (c >> 3) == 0x1e ? 4
                                            : 0;
    if (length == 0 || i + length > text.size()) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += length;
  }
  return true;
}

LayerStream::LayerStream(const LayerOptions& options, const fs::path& output)
    : options_(options),
      file_(output),
      compressed_(&file_),
      compressor_(makeCompressor(options.compression, compressed_)),
      background_(*compressor_),
      uncompressed_(&background_),
      tar_(uncompressed_) {}

TarHeader LayerStream::header(const LayerEntry& entry) const {
  TarHeader header;
  header.path = entry.path;
  header.type = entry.type;
  header.mode = entry.mode;
  header.uid = entry.uid;
  header.gid = entry.gid;
  header.mtime = options_.mtime;
  header.linkTarget = entry.linkTarget;
  return header;
}

void LayerStream::write(const LayerEntry& entry) {
  if (entry.type != EntryType::file) {
    tar_.writeHeader(header(entry));
  } else if (!entry.source.empty()) {
    tar_.writeFile(header(entry), entry.source);
  } else {
    tar_.writeBytes(header(entry), entry.content);
  }
}

void LayerStream::writeFile(const LayerEntry& entry, int fd) {
  tar_.writeFile(header(entry), fd, entry.source);
}

LayerResult LayerStream::finish() {
  tar_.finish();
  background_.finish();
  compressor_->finish();
  file_.close();

  LayerResult result;
  result.diffId = uncompressed_.finish();
  result.digest = compressed_.finish();
  result.uncompressedSize = static_cast<std::int64_t>(uncompressed_.bytes());
  result.size = static_cast<std::int64_t>(compressed_.bytes());
  result.mediaType = std::string(layerMediaType(options_.compression));
  return result;
}

Descriptor LayerResult::descriptor() const {
  Descriptor descriptor;
  descriptor.mediaType = mediaType;
  descriptor.digest = digest;
  descriptor.size = size;
  return descriptor;
}

LayerResult writeLayer(std::vector<LayerEntry> entries,
                       const LayerOptions& options, const fs::path& output) {
  std::vector<LayerEntry> sorted = canonicalEntries(std::move(entries));
  try {
    LayerStream stream(options, output);
    for (const auto& entry : sorted) {
      stream.write(entry);
    }
    return stream.finish();
  } catch (...) {
    std::error_code ignored;
    fs::remove(output, ignored);
    throw;
  }
}

}  // namespace kiln::oci
