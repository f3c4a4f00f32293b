#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// Levenshtein distance between two strings.
std::size_t editDistance(std::string_view a, std::string_view b);

/// Returns the candidate closest to `word` if it is close enough to be a
/// likely typo (at most a third of the word's length, and at least 1).
std::optional<std::string> closestMatch(
    std::string_view word, const std::vector<std::string>& candidates);

/// Formats "Did you mean 'x'?" for a near miss, else lists the candidates.
std::string suggestion(std::string_view word,
                       const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts,
                 std::string_view separator);

/// "0.4s", "12.3s", "2m05s".
std::string formatDuration(std::chrono::milliseconds duration);

/// "512 B", "1.5 KiB", "20.1 MiB".
std::string formatBytes(std::uint64_t bytes);

/// Parses "30s", "10m", "1h", "1500ms" or a plain number of seconds.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

/// Parses "0", "512", "10K", "200M", "2G" (powers of 1024).
std::optional<std::uint64_t> parseSize(std::string_view text);

/// Quotes a word for a POSIX shell when it needs quoting.
std::string shellQuote(std::string_view word);

bool startsWith(std::string_view text, std::string_view prefix);
bool endsWith(std::string_view text, std::string_view suffix);

/// Splits on a single character; keeps empty fields.
std::vector<std::string> split(std::string_view text, char separator);

}  // namespace kiln
