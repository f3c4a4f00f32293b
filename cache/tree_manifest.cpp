#include "cache/tree_manifest.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "util/strings.h"

namespace kiln {

std::string entryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

std::string TreeManifest::serialize() const {
  std::vector<const TreeEntry*> sorted;
  for (const auto& entry : entries) {
    sorted.push_back(&entry);
  }
  std::sort(
      sorted.begin(), sorted.end(),
      [](const TreeEntry* a, const TreeEntry* b) { return a->path < b->path; });
  std::string text = "{\"entries\":[";
  bool first = true;
  for (const TreeEntry* entry : sorted) {
    text += first ? "" : ",";
    first = false;
    text += "{\"path\":" + nlohmann::json(entry->path).dump() + ",\"type\":\"" +
            entryTypeName(entry->type) + "\"";
    switch (entry->type) {
      case EntryType::kFile:
        text += ",\"mode\":" + std::to_string(entry->mode) +
                ",\"size\":" + std::to_string(entry->size) + ",\"digest\":\"" +
                entry->digest.hex() + "\"";
        break;
      case EntryType::kDirectory:
        text += ",\"mode\":" + std::to_string(entry->mode);
        break;
      case EntryType::kSymlink:
        text += ",\"target\":" + nlohmann::json(entry->target).dump();
        break;
    }
    text += "}";
  }
  return text + "],\"version\":1}";
}

Digest TreeManifest::digest() const {
  return sha256(serialize());
}

std::uint64_t TreeManifest::totalFileBytes() const {
  std::uint64_t total = 0;
  for (const auto& entry : entries) {
    total += entry.size;
  }
  return total;
}

std::string validateEntryPath(std::string_view path,
                              const std::vector<std::string>& roots) {
  if (path.empty()) {
    return "empty path";
  }
  if (path.front() == '/') {
    return "absolute path";
  }
  for (const auto& segment : split(path, '/')) {
    if (segment.empty() || segment == "." || segment == "..") {
      return "path with an empty, '.' or '..' segment";
    }
  }
  for (const auto& root : roots) {
    if (path == root || (path.size() > root.size() && startsWith(path, root) &&
                         path[root.size()] == '/')) {
      return {};
    }
  }
  return "path outside the step's declared outputs";
}

bool TreeManifest::parse(std::string_view json, TreeManifest* manifest,
                         std::string* error) {
  manifest->entries.clear();
  try {
    nlohmann::json document = nlohmann::json::parse(json);
    if (document.value("version", 0) != 1) {
      *error = "unsupported manifest version";
      return false;
    }
    for (const auto& item : document.at("entries")) {
      TreeEntry entry;
      entry.path = item.at("path").get<std::string>();
      std::string type = item.at("type").get<std::string>();
      if (type == "file") {
        entry.type = EntryType::kFile;
        entry.mode = item.at("mode").get<unsigned>() & 0777;
        entry.size = item.at("size").get<std::uint64_t>();
        if (!Digest::parse(item.at("digest").get<std::string>(),
                           &entry.digest)) {
          *error = "invalid digest for " + entry.path;
          return false;
        }
      } else if (type == "dir") {
        entry.type = EntryType::kDirectory;
        entry.mode = item.at("mode").get<unsigned>() & 0777;
      } else if (type == "symlink") {
        entry.type = EntryType::kSymlink;
        entry.target = item.at("target").get<std::string>();
        if (entry.target.empty()) {
          *error = "empty symlink target for " + entry.path;
          return false;
        }
      } else {
        *error = "unknown entry type '" + type + "'";
        return false;
      }
      manifest->entries.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& exception) {
    *error = std::string("malformed manifest: ") + exception.what();
    return false;
  }
  return true;
}

}  // namespace kiln
