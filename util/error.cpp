#include "util/error.h"

namespace kiln {

std::string SourceLocation::str() const {
  std::string text = file;
  if (line > 0) {
    text += ":" + std::to_string(line);
    if (column > 0) {
      text += ":" + std::to_string(column);
    }
  }
  return text;
}

std::string UsageError::render() const {
  std::string text = what();
  if (!hint_.empty()) {
    text += "\n  fix: " + hint_;
  }
  return text;
}

std::string ConfigError::render() const {
  std::string text = where_.str() + ": " + what();
  if (!hint().empty()) {
    text += "\n  fix: " + hint();
  }
  return text;
}

}  // namespace kiln
