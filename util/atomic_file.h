#pragma once

#include <filesystem>
#include <string_view>

namespace kiln {

/// Writes `content` to `path` so that readers see either the old file or the
/// whole new one: the bytes go to a temporary file in the same directory,
/// which is flushed with fsync and then renamed over `path`. Creates missing
/// parent directories. Throws std::system_error on failure and leaves no
/// temporary file behind.
void writeFileAtomic(const std::filesystem::path& path,
                     std::string_view content, unsigned mode = 0644);

/// Reads a whole file; throws std::system_error if it cannot be read.
std::string readFile(const std::filesystem::path& path);

/// Reads a whole file; returns false if it does not exist or cannot be read.
bool tryReadFile(const std::filesystem::path& path, std::string* content);

/// A name for a temporary file beside `path`, unique across processes and
/// threads.
std::filesystem::path temporaryPathFor(const std::filesystem::path& path);

}  // namespace kiln
