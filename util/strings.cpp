#include "util/strings.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace kiln {

std::size_t editDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and
  // transpositions of adjacent characters each cost 1.
  std::vector<std::vector<std::size_t>> d(
      a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::optional<std::string> closestMatch(
    std::string_view word, const std::vector<std::string>& candidates) {
  std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  std::size_t bestDistance = limit + 1;
  for (const auto& candidate : candidates) {
    std::size_t distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string suggestion(std::string_view word,
                       const std::vector<std::string>& candidates) {
  if (auto match = closestMatch(word, candidates)) {
    return "did you mean '" + *match + "'?";
  }
  if (candidates.empty()) {
    return {};
  }
  return "expected one of: " + join(candidates, ", ");
}

std::string join(const std::vector<std::string>& parts,
                 std::string_view separator) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      text += separator;
    }
    text += parts[i];
  }
  return text;
}

std::string formatDuration(std::chrono::milliseconds duration) {
  long long ms = duration.count();
  char buffer[32];
  if (ms < 60'000) {
    std::snprintf(buffer, sizeof buffer, "%.1fs", ms / 1000.0);
  } else {
    long long seconds = ms / 1000;
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", seconds / 60,
                  seconds % 60);
  }
  return buffer;
}

std::string formatBytes(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof buffer, "%llu B",
                  static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  }
  return buffer;
}

static std::optional<double> parseNumber(std::string_view text) {
  double value = 0;
  auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double milliseconds;
  };
  static const Unit kUnits[] = {{"ms", 1},
                                {"s", 1000},
                                {"m", 60'000},
                                {"h", 3'600'000},
                                {"d", 86'400'000}};
  for (const auto& unit : kUnits) {
    if (endsWith(text, unit.suffix)) {
      auto number =
          parseNumber(text.substr(0, text.size() - unit.suffix.size()));
      if (!number) {
        continue;
      }
      return std::chrono::milliseconds(
          static_cast<long long>(*number * unit.milliseconds));
    }
  }
  if (auto seconds = parseNumber(text)) {
    return std::chrono::milliseconds(static_cast<long long>(*seconds * 1000));
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parseSize(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t multiplier = 1;
  char last = static_cast<char>(std::toupper(text.back()));
  if (last == 'B' && text.size() > 1) {
    text.remove_suffix(1);
    last = static_cast<char>(std::toupper(text.back()));
  }
  switch (last) {
    case 'K':
      multiplier = 1ull << 10;
      break;
    case 'M':
      multiplier = 1ull << 20;
      break;
    case 'G':
      multiplier = 1ull << 30;
      break;
    case 'T':
      multiplier = 1ull << 40;
      break;
    default:
      break;
  }
  if (multiplier != 1) {
    text.remove_suffix(1);
  }
  auto number = parseNumber(text);
  if (!number) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(*number * static_cast<double>(multiplier));
}

std::string shellQuote(std::string_view word) {
  bool plain =
      !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-_./=:,@%+").find(c) != std::string_view::npos;
      });
  if (plain) {
    return std::string(word);
  }
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace kiln
