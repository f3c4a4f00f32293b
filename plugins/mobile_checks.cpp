#include "plugins/mobile_checks.h"

#include <cctype>
#include <regex>
#include <vector>

#include "plugins/project_files.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

std::string readOrThrow(const fs::path& file) {
  std::optional<std::string> text = readProjectFile(file);
  if (!text) {
    throw UsageError(file.string() + " not found or not readable",
                     "check the target's 'dir'");
  }
  return *text;
}

// The index just past the brace that closes the one at `open`, or npos.
std::size_t closingBrace(const std::string& text, std::size_t open) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i + 1;
    }
  }
  return std::string::npos;
}

// A buildConfigField value as written, without the closing parenthesis.
std::string trimmedValue(std::string value) {
  while (!value.empty() &&
         (std::isspace(static_cast<unsigned char>(value.back())) ||
          value.back() == ')')) {
    value.pop_back();
  }
  std::size_t begin = value.find_first_not_of(" \t");
  return begin == std::string::npos ? "" : value.substr(begin);
}

std::string androidFlavorExample(const fs::path& buildFile,
                                 const std::string& flavor,
                                 const std::string& gatewayUrl) {
  if (buildFile.extension() == ".kts") {
    return "create(\"" + flavor +
           "\") { buildConfigField(\"String\", \"GATEWAY_URL\", \"\\\"" +
           gatewayUrl + "\\\"\") }";
  }
  return flavor + " { buildConfigField \"String\", \"GATEWAY_URL\", '\"" +
         gatewayUrl + "\"' }";
}

// The name of the file in a pbxproj comment such as
// "8A00 /* Staging.xcconfig */", or "".
std::string commentedName(const std::string& value) {
  static const std::regex kComment(R"re(/\*\s*(.*?)\s*\*/)re");
  std::smatch match;
  return std::regex_search(value, match, kComment) ? match[1].str() : "";
}

// Finds a file by name below `dir`, skipping build output folders.
std::optional<fs::path> findBelow(const fs::path& dir,
                                  const std::string& name) {
  std::error_code error;
  fs::recursive_directory_iterator it(dir, error);
  for (; !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    std::string entry = it->path().filename().string();
    if (it->is_directory(error) &&
        (entry == "build" || entry == "DerivedData" || entry == ".git")) {
      it.disable_recursion_pending();
      continue;
    }
    if (entry == name) {
      return it->path();
    }
  }
  return std::nullopt;
}

// The value of SWIFT_ACTIVE_COMPILATION_CONDITIONS in text (pbxproj build
// settings or an .xcconfig), or std::nullopt when it is not set.
std::optional<std::string> conditionsIn(const std::string& text) {
  static const std::regex kSetting(
      R"re(SWIFT_ACTIVE_COMPILATION_CONDITIONS\s*=\s*("([^"]*)"|\(([^)]*)\)|([^;\n]*)))re");
  std::smatch match;
  if (!std::regex_search(text, match, kSetting)) {
    return std::nullopt;
  }
  for (int group : {2, 3, 4}) {
    if (match[group].matched) {
      return match[group].str();
    }
  }
  return std::string();
}

bool hasWord(const std::string& list, const std::string& word) {
  std::regex pattern("(^|[^A-Za-z0-9_])" + word + "($|[^A-Za-z0-9_=])");
  return std::regex_search(list, pattern);
}

bool usesStagingCondition(const fs::path& sourceRoot) {
  static const std::regex kCondition(R"re(#(if|elseif)\s[^\n]*\bSTAGING\b)re");
  std::error_code error;
  fs::recursive_directory_iterator it(sourceRoot, error);
  for (; !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    std::string entry = it->path().filename().string();
    if (it->is_directory(error) &&
        (entry == "build" || entry == "DerivedData" || entry == ".git")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().extension() != ".swift") {
      continue;
    }
    std::optional<std::string> text = readProjectFile(it->path());
    if (text && std::regex_search(*text, kCondition)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string stripCStyleComments(const std::string& text) {
  std::string result;
  result.reserve(text.size());
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      result += c;
      if (c == '\\' && i + 1 < text.size()) {
        result += text[++i];
      } else if (c == '"') {
        inString = false;
      }
    } else if (c == '"') {
      inString = true;
      result += c;
    } else if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') {
        ++i;
      }
      result += '\n';
    } else if (text.compare(i, 2, "/*") == 0) {
      std::size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      result += ' ';
    } else {
      result += c;
    }
  }
  return result;
}

std::string blockAfter(const std::string& text, const std::string& opening,
                       std::size_t* found) {
  std::smatch match;
  std::regex pattern(opening + R"re(\s*\{)re");
  *found = std::string::npos;
  if (!std::regex_search(text, match, pattern)) {
    return "";
  }
  std::size_t open = static_cast<std::size_t>(match.position(0)) +
                     static_cast<std::size_t>(match.length(0)) - 1;
  std::size_t close = closingBrace(text, open);
  if (close == std::string::npos) {
    return "";
  }
  *found = static_cast<std::size_t>(match.position(0));
  return text.substr(open + 1, close - open - 2);
}

void checkAndroidStagingFlavor(const fs::path& buildFile,
                               const std::string& flavor,
                               const std::string& gatewayUrl) {
  std::string text = stripCStyleComments(readOrThrow(buildFile));
  std::string example = androidFlavorExample(buildFile, flavor, gatewayUrl);

  std::size_t found = 0;
  std::string flavors = blockAfter(text, R"re(\bproductFlavors)re", &found);
  std::string block;
  if (found != std::string::npos) {
    std::string quoted = "[\"']" + flavor + "[\"']";
    block =
        blockAfter(flavors,
                   "(\\b(create|register|maybeCreate|getByName)\\s*\\(\\s*" +
                       quoted + "\\s*\\)|(^|[\\s{;])" + flavor + ")",
                   &found);
  }
  if (found == std::string::npos) {
    throw UsageError(
        buildFile.string() + " declares no '" + flavor + "' product flavor",
        "add inside android { productFlavors { ... } }: " + example);
  }

  static const std::regex kField(
      R"re(buildConfigField\s*\(?\s*["']String["']\s*,\s*["']GATEWAY_URL["']\s*,([^\n]*))re");
  std::smatch match;
  if (!std::regex_search(block, match, kField)) {
    throw UsageError(buildFile.string() + ": the '" + flavor +
                         "' product flavor has no GATEWAY_URL "
                         "buildConfigField",
                     "add to the flavor: " + example);
  }
  static const std::regex kUrl(R"re(https?://[^"'\\\s)]+)re");
  std::string value = match[1].str();
  std::smatch url;
  if (!std::regex_search(value, url, kUrl) || url.str() != gatewayUrl) {
    throw UsageError(buildFile.string() + ": the '" + flavor +
                         "' flavor sets GATEWAY_URL to " + trimmedValue(value) +
                         ", but the pipeline expects " + gatewayUrl,
                     "change it to " + gatewayUrl +
                         ", or set the target's 'gateway_url' option to the "
                         "URL the flavor uses");
  }
}

void checkIosStagingCondition(const fs::path& projectFile,
                              const std::string& configuration,
                              const fs::path& sourceRoot) {
  std::string text = readOrThrow(projectFile);
  std::string line = "SWIFT_ACTIVE_COMPILATION_CONDITIONS = STAGING;";
  std::regex object(R"re(=\s*\{\s*isa\s*=\s*XCBuildConfiguration\s*;)re");
  bool sawConfiguration = false;
  bool sawStaging = false;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), object);
       it != std::sregex_iterator(); ++it) {
    std::size_t open =
        static_cast<std::size_t>(it->position(0)) + it->str().find('{');
    std::size_t close = closingBrace(text, open);
    if (close == std::string::npos) {
      break;
    }
    std::string body = text.substr(open, close - open);
    std::regex named("\\bname\\s*=\\s*\"?" + configuration + "\"?\\s*;");
    if (!std::regex_search(body, named)) {
      continue;
    }
    sawConfiguration = true;

    std::optional<std::string> conditions = conditionsIn(body);
    std::string where = projectFile.string();
    if (!conditions) {
      static const std::regex kBase(
          R"re(baseConfigurationReference\s*=\s*([^;]*);)re");
      std::smatch base;
      if (std::regex_search(body, base, kBase)) {
        std::string name = commentedName(base[1].str());
        std::optional<fs::path> file =
            name.empty()
                ? std::nullopt
                : findBelow(projectFile.parent_path().parent_path(), name);
        if (file) {
          conditions = conditionsIn(readProjectFile(*file).value_or(""));
          where = file->string();
        }
      }
    }
    if (!conditions) {
      continue;
    }
    if (hasWord(*conditions, "STAGING")) {
      sawStaging = true;
    } else if (conditions->find("$(inherited)") == std::string::npos) {
      throw UsageError(where + ": the " + configuration +
                           " configuration sets "
                           "SWIFT_ACTIVE_COMPILATION_CONDITIONS to '" +
                           *conditions + "' without STAGING",
                       "add STAGING to the list: " + line);
    }
  }
  if (!sawConfiguration) {
    throw UsageError(projectFile.string() + " has no '" + configuration +
                         "' build configuration",
                     "duplicate the Release configuration as " + configuration +
                         " in Xcode (Project > Info > "
                         "Configurations), then set " +
                         line);
  }
  if (!sawStaging) {
    throw UsageError(projectFile.string() + ": the " + configuration +
                         " configuration does not set the STAGING "
                         "compilation condition",
                     "add to its build settings (or its .xcconfig): " + line);
  }
  if (!usesStagingCondition(sourceRoot)) {
    throw UsageError("no Swift file under " + sourceRoot.string() +
                         " contains `#if STAGING`",
                     "select the staging gateway URL with `#if STAGING` ... "
                     "`#else` ... `#endif` where the base URL is defined");
  }
}

}  // namespace kiln
