#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

/// A position in a pipeline file; line and column are 1-based, 0 if unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  /// Formats as "file:line:col", or fewer parts when they are unknown.
  std::string str() const;
};

/// A mistake in what the user gave kiln (command line, pipeline file,
/// project layout). It ends the command with exit status 2. The message says
/// what is wrong and on which value; the hint says what to change.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}

  const std::string& hint() const { return hint_; }

  /// Formats the message and, on a second line, the hint.
  virtual std::string render() const;

 private:
  std::string hint_;
};

/// A UsageError that points at a place in a pipeline file.
class ConfigError : public UsageError {
 public:
  ConfigError(SourceLocation where, const std::string& message,
              std::string hint = {})
      : UsageError(message, std::move(hint)), where_(std::move(where)) {}

  const SourceLocation& where() const { return where_; }
  std::string render() const override;

 private:
  SourceLocation where_;
};

}  // namespace kiln
