#include "plugins/cargo_manifest.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include "util/strings.h"

namespace kiln {

namespace {

std::string trim(const std::string& text) {
  std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) {
    return "";
  }
  std::size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// Removes a '#' comment that is outside any string.
std::string stripComment(const std::string& line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return line.substr(0, i);
    }
  }
  return line;
}

// The first quoted string in a value, without its quotes.
std::string firstString(const std::string& value) {
  static const std::regex kString(R"re("([^"\\]*)"|'([^']*)')re");
  std::smatch match;
  if (!std::regex_search(value, match, kString)) {
    return "";
  }
  return match[1].matched ? match[1].str() : match[2].str();
}

// The string value of `key` inside an inline table such as
// { path = "../x" }, or "".
std::string inlineString(const std::string& value, const std::string& key) {
  std::regex pattern("(^|[{,\\s])" + key +
                     R"re(\s*=\s*("([^"\\]*)"|'([^']*)'))re");
  std::smatch match;
  if (!std::regex_search(value, match, pattern)) {
    return "";
  }
  return match[3].matched ? match[3].str() : match[4].str();
}

bool inlineTrue(const std::string& value, const std::string& key) {
  std::regex pattern("(^|[{,\\s])" + key + R"re(\s*=\s*true)re");
  return std::regex_search(value, pattern);
}

std::string unquoteKey(std::string key) {
  key = trim(key);
  if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) {
    key = key.substr(1, key.size() - 2);
  }
  return key;
}

// Returns true for a table that lists dependencies a build compiles:
// [dependencies], [build-dependencies] and their [target.X.] forms.
bool isDependencyTable(const std::string& table) {
  std::string name = table;
  if (startsWith(name, "target.")) {
    std::size_t last = name.rfind('.');
    name = name.substr(last + 1);
  }
  return name == "dependencies" || name == "build-dependencies";
}

// Opening minus closing brackets outside strings.
int bracketBalance(const std::string& line) {
  int balance = 0;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[') {
      ++balance;
    } else if (c == ']') {
      --balance;
    }
  }
  return balance;
}

// Logical lines: comments removed, arrays that span lines joined.
std::vector<std::string> logicalLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  std::string pending;
  int depth = 0;
  while (std::getline(in, line)) {
    std::string clean = stripComment(line);
    bool startsTable =
        depth == 0 && !trim(clean).empty() && trim(clean).front() == '[';
    if (!startsTable) {
      depth += bracketBalance(clean);
    }
    pending += clean + " ";
    if (depth <= 0) {
      depth = 0;
      lines.push_back(trim(pending));
      pending.clear();
    }
  }
  if (!trim(pending).empty()) {
    lines.push_back(trim(pending));
  }
  return lines;
}

void addDependency(CargoManifest& manifest, const std::string& value) {
  std::string path = inlineString(value, "path");
  if (!path.empty()) {
    manifest.pathDependencies.push_back(path);
  }
}

}  // namespace

CargoManifest parseCargoManifest(const std::string& text) {
  CargoManifest manifest;
  std::string table;
  std::string dottedDependency;  // name in [dependencies.NAME]
  for (const auto& line : logicalLines(text)) {
    if (line.empty()) {
      continue;
    }
    if (startsWith(line, "[[")) {
      table = trim(line.substr(2, line.find("]]") - 2));
      dottedDependency.clear();
      if (table == "bin") {
        manifest.bins.push_back({});
      }
      continue;
    }
    if (line.front() == '[') {
      table = trim(line.substr(1, line.find(']') - 1));
      dottedDependency.clear();
      if (table == "package") {
        manifest.hasPackage = true;
      } else if (table == "workspace") {
        manifest.isWorkspace = true;
      }
      std::size_t dot = table.rfind('.');
      if (dot != std::string::npos && isDependencyTable(table.substr(0, dot))) {
        dottedDependency = table.substr(dot + 1);
        table = table.substr(0, dot) + ".*";
      }
      continue;
    }
    std::size_t equals = line.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    std::string key = unquoteKey(line.substr(0, equals));
    std::string value = trim(line.substr(equals + 1));

    if (table == "package" && key == "name") {
      manifest.packageName = firstString(value);
    } else if (table == "package" && key == "autobins") {
      manifest.autobins = value != "false";
    } else if (table == "bin" && !manifest.bins.empty()) {
      if (key == "name") {
        manifest.bins.back().name = firstString(value);
      } else if (key == "path") {
        manifest.bins.back().path = firstString(value);
      }
    } else if (table == "workspace.dependencies") {
      std::string path = inlineString(value, "path");
      if (!path.empty()) {
        manifest.workspacePathDependencies[key] = path;
      }
    } else if (isDependencyTable(table)) {
      if (inlineTrue(value, "workspace")) {
        manifest.workspaceDependencies.push_back(key);
      } else {
        addDependency(manifest, value);
      }
    } else if (endsWith(table, ".*") && !dottedDependency.empty()) {
      if (key == "path") {
        manifest.pathDependencies.push_back(firstString(value));
      } else if (key == "workspace" && value == "true") {
        manifest.workspaceDependencies.push_back(dottedDependency);
      }
    }
  }
  return manifest;
}

std::string cargoBuildTarget(const std::string& configText) {
  std::string table;
  for (const auto& line : logicalLines(configText)) {
    if (!line.empty() && line.front() == '[') {
      table = trim(line.substr(1, line.find(']') - 1));
      continue;
    }
    std::size_t equals = line.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    std::string key = unquoteKey(line.substr(0, equals));
    if ((table == "build" && key == "target") ||
        (table.empty() && key == "build.target")) {
      return firstString(line.substr(equals + 1));
    }
  }
  return "";
}

}  // namespace kiln
