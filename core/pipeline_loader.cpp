#include "core/pipeline_loader.h"

#include <set>

#include "util/atomic_file.h"
#include "util/glob.h"
#include "util/strings.h"

namespace kiln {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopLevelKeys = {"version", "repos", "include",
                                                "targets"};
const std::vector<std::string> kRepoKeys = {"path", "url", "ref"};
const std::vector<std::string> kIncludeKeys = {"file", "targets"};
const std::vector<std::string> kCommonTargetKeys = {
    "plugin", "repo", "dir", "deps", "env", "pass_env", "cache", "timeout"};

std::string nodeKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "an undefined value";
  }
}

// Reads one pipeline file; includes recurse through it.
class FileParser {
 public:
  FileParser(const PluginRegistry& plugins, Pipeline& pipeline,
             std::vector<fs::path>& includeStack)
      : plugins_(plugins), pipeline_(pipeline), includeStack_(includeStack) {}

  void parse(const std::string& text, const fs::path& file,
             const std::vector<std::size_t>& filters) {
    file_ = file;
    filters_ = filters;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& error) {
      std::size_t lineStart = 0;
      for (int line = 0; line < error.mark.line && lineStart != std::string::npos;
           ++line) {
        lineStart = text.find('\n', lineStart);
        lineStart = lineStart == std::string::npos ? lineStart : lineStart + 1;
      }
      bool tab = lineStart != std::string::npos &&
                 text.substr(lineStart, text.find('\n', lineStart) - lineStart)
                         .find('\t') != std::string::npos;
      throw ConfigError(at(error.mark), "invalid YAML: " + error.msg,
                        tab ? "indent with spaces: YAML does not allow tabs "
                              "in indentation"
                            : "fix the syntax at this position");
    }
    checkQuotesClosed(root, text);
    if (!root.IsMap()) {
      throw ConfigError(at(root.Mark()),
                        "a pipeline file must be a map, got " + nodeKind(root),
                        "start with 'version: 1', then 'repos:' and "
                        "'targets:'");
    }
    checkKeys(root, kTopLevelKeys, "the pipeline");
    parseVersion(root);
    if (root["repos"]) {
      parseRepos(root["repos"]);
    }
    if (root["include"]) {
      parseIncludes(root["include"]);
    }
    if (root["targets"]) {
      parseTargets(root["targets"]);
    }
  }

 private:
  // yaml-cpp 0.7 accepts a quoted scalar that is still open at the end of
  // the file and takes every line after it into the string, so a missing
  // closing quote would silently swallow the keys that follow.
  void checkQuotesClosed(const YAML::Node& node, const std::string& text) const {
    if (node.IsMap() || node.IsSequence()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (node.IsMap()) {
          checkQuotesClosed(it->first, text);
          checkQuotesClosed(it->second, text);
        } else {
          checkQuotesClosed(*it, text);
        }
      }
      return;
    }
    int start = node.Mark().pos;
    if (!node.IsScalar() || start < 0 ||
        static_cast<std::size_t>(start) >= text.size()) {
      return;
    }
    char quote = text[start];
    if (quote != '"' && quote != '\'') {
      return;
    }
    for (std::size_t i = start + 1; i < text.size(); ++i) {
      if (quote == '"' && text[i] == '\\') {
        ++i;  // an escaped character
      } else if (text[i] == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;  // '' is a quote inside a single-quoted string
          continue;
        }
        return;
      }
    }
    throw ConfigError(at(node.Mark()), "quoted string is never closed",
                      std::string("add the closing ") + quote +
                          " at the end of the value");
  }

  SourceLocation at(const YAML::Mark& mark) const {
    SourceLocation where{file_.string(), 0, 0};
    if (!mark.is_null()) {
      where.line = mark.line + 1;
      where.column = mark.column + 1;
    }
    return where;
  }

  void checkKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                 const std::string& owner) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        throw ConfigError(at(it->first.Mark()),
                          "keys of " + owner + " must be plain names",
                          "write the key as a plain word");
      }
      const std::string& key = it->first.Scalar();
      if (!seen.insert(key).second) {
        throw ConfigError(at(it->first.Mark()),
                          "duplicate key '" + key + "' in " + owner,
                          "remove one of the two");
      }
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string hint = suggestion(key, allowed);
        throw ConfigError(at(it->first.Mark()),
                          "unknown key '" + key + "' in " + owner,
                          hint.empty() ? "remove it" : hint);
      }
    }
  }

  SourceLocation keyLocation(const YAML::Node& map,
                             const std::string& key) const {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        return at(it->first.Mark());
      }
    }
    return at(map.Mark());
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) {
      throw ConfigError(at(node.Mark()),
                        what + " must be a string, got " + nodeKind(node),
                        "write a single value; quote it if it contains ':'");
    }
    return node.Scalar();
  }

  std::string name(const YAML::Node& node, const std::string& what) const {
    std::string text = scalar(node, what);
    bool valid =
        !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                 c == '_' || c == '.';
        });
    if (!valid) {
      throw ConfigError(at(node.Mark()),
                        what + " '" + text + "' is not a valid name",
                        "use letters, digits, '-', '_' and '.' only");
    }
    return text;
  }

  std::vector<std::string> stringList(const YAML::Node& node,
                                      const std::string& what) const {
    if (node.IsScalar()) {
      return {node.Scalar()};
    }
    if (!node.IsSequence()) {
      throw ConfigError(
          at(node.Mark()),
          what + " must be a list of strings, got " + nodeKind(node),
          "write a list such as [a, b]");
    }
    std::vector<std::string> items;
    for (const auto& item : node) {
      items.push_back(scalar(item, "each entry of " + what));
    }
    return items;
  }

  std::map<std::string, std::string> stringMap(const YAML::Node& node,
                                               const std::string& what) const {
    if (!node.IsMap()) {
      throw ConfigError(at(node.Mark()),
                        what + " must be a map, got " + nodeKind(node),
                        "write it as NAME: value pairs");
    }
    std::map<std::string, std::string> values;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = scalar(it->first, "a key of " + what);
      if (!it->second.IsScalar()) {
        throw ConfigError(at(it->second.Mark()),
                          what + " value of '" + key +
                              "' must be a string, got " + nodeKind(it->second),
                          "quote the value to make it a string");
      }
      values[key] = it->second.Scalar();
    }
    return values;
  }

  bool boolean(const YAML::Node& node, const std::string& what) const {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      throw ConfigError(at(node.Mark()),
                        what + " must be true or false, got " + nodeKind(node),
                        "write true or false");
    }
    return value;
  }

  void parseVersion(const YAML::Node& root) {
    const YAML::Node version = root["version"];
    if (!version) {
      throw ConfigError(at(root.Mark()), "missing 'version'",
                        "add 'version: 1' at the top of the file");
    }
    if (!version.IsScalar() || version.Scalar() != "1") {
      throw ConfigError(at(version.Mark()),
                        "unsupported pipeline version " + nodeKind(version),
                        "this kiln reads 'version: 1'");
    }
  }

  void parseRepos(const YAML::Node& repos) {
    if (!repos.IsMap()) {
      throw ConfigError(
          at(repos.Mark()),
          "'repos' must be a map of names, got " + nodeKind(repos),
          "write 'repos:' then lines such as "
          "'  federation: { path: ngwenya-federation }'");
    }
    for (auto it = repos.begin(); it != repos.end(); ++it) {
      RepoSpec repo;
      repo.name = name(it->first, "a repository name");
      repo.where = at(it->first.Mark());
      repo.baseDir = file_.parent_path();
      const YAML::Node& body = it->second;
      std::string owner = "repository '" + repo.name + "'";
      if (body.IsScalar()) {
        repo.path = body.Scalar();
      } else if (body.IsMap()) {
        checkKeys(body, kRepoKeys, owner);
        if (body["path"])
          repo.path = scalar(body["path"], "'path'");
        if (body["url"])
          repo.url = scalar(body["url"], "'url'");
        if (body["ref"])
          repo.ref = scalar(body["ref"], "'ref'");
      } else {
        throw ConfigError(
            at(body.Mark()),
            owner + " must be a path or a map, got " + nodeKind(body),
            "write '{ path: DIR }' or '{ url: URL, ref: REF }'");
      }
      if (repo.path.empty() == repo.url.empty()) {
        throw ConfigError(repo.where,
                          owner + " needs exactly one of 'path' and 'url'",
                          "give a local 'path:' or a git 'url:' (with 'ref:')");
      }
      if (!repo.ref.empty() && repo.url.empty()) {
        throw ConfigError(keyLocation(body, "ref"),
                          owner + " has 'ref' without 'url'",
                          "remove 'ref', or replace 'path' with 'url'");
      }
      addRepo(std::move(repo));
    }
  }

  void addRepo(RepoSpec repo) {
    for (const auto& existing : pipeline_.repos) {
      if (existing.name != repo.name) {
        continue;
      }
      fs::path existingPath = existing.baseDir / existing.path;
      fs::path newPath = repo.baseDir / repo.path;
      bool same = existing.url == repo.url && existing.ref == repo.ref &&
                  existingPath.lexically_normal() == newPath.lexically_normal();
      if (same) {
        return;
      }
      throw ConfigError(repo.where,
                        "repository '" + repo.name +
                            "' is already defined "
                            "differently at " +
                            existing.where.str(),
                        "rename one of them");
    }
    pipeline_.repos.push_back(std::move(repo));
  }

  void parseIncludes(const YAML::Node& includes) {
    if (!includes.IsSequence()) {
      throw ConfigError(at(includes.Mark()),
                        "'include' must be a list, got " + nodeKind(includes),
                        "write '- file: staging.yaml' entries");
    }
    for (const auto& entry : includes) {
      fs::path file;
      std::vector<std::string> patterns;
      SourceLocation where = at(entry.Mark());
      if (entry.IsScalar()) {
        file = entry.Scalar();
      } else if (entry.IsMap()) {
        checkKeys(entry, kIncludeKeys, "an include");
        if (!entry["file"]) {
          throw ConfigError(where, "an include needs 'file'",
                            "add 'file: other.yaml'");
        }
        file = scalar(entry["file"], "'file'");
        if (entry["targets"]) {
          patterns = stringList(entry["targets"], "'targets' of an include");
        }
      } else {
        throw ConfigError(
            where,
            "an include must be a file name or a map, got " + nodeKind(entry),
            "write '- file: other.yaml'");
      }
      includeFile(file_.parent_path() / file, patterns, where);
    }
  }

  void includeFile(const fs::path& path,
                   const std::vector<std::string>& patterns,
                   const SourceLocation& where) {
    fs::path normal = path.lexically_normal();
    for (const auto& open : includeStack_) {
      if (open == normal) {
        throw ConfigError(
            where,
            "include cycle: " + normal.string() + " is already being read",
            "remove this include");
      }
    }
    std::string text;
    if (!tryReadFile(normal, &text)) {
      throw ConfigError(
          where,
          "included file " + normal.string() + " not found or not readable",
          "fix the path; it is relative to this file");
    }
    std::vector<std::size_t> filters = filters_;
    if (!patterns.empty()) {
      pipeline_.includeFilters.push_back({patterns, where});
      filters.push_back(pipeline_.includeFilters.size() - 1);
    }
    includeStack_.push_back(normal);
    FileParser nested(plugins_, pipeline_, includeStack_);
    nested.parse(text, normal, filters);
    includeStack_.pop_back();
  }

  void parseTargets(const YAML::Node& targets) {
    if (!targets.IsSequence()) {
      throw ConfigError(at(targets.Mark()),
                        "'targets' must be a list, got " + nodeKind(targets),
                        "write each target as a '- name: ...' entry");
    }
    for (const auto& entry : targets) {
      if (!entry.IsMap()) {
        throw ConfigError(at(entry.Mark()),
                          "a target must be a map, got " + nodeKind(entry),
                          "write '- { name: NAME, plugin: PLUGIN, ... }'");
      }
      if (entry["discover"]) {
        parseDiscover(entry);
      } else {
        parseTarget(entry);
      }
    }
  }

  const Plugin& findPlugin(const YAML::Node& body, const std::string& owner) {
    if (!body["plugin"]) {
      throw ConfigError(at(body.Mark()), owner + " has no 'plugin'",
                        "add 'plugin: " + join(plugins_.names(), "|") + "'");
    }
    std::string pluginName = scalar(body["plugin"], "'plugin'");
    const Plugin* plugin = plugins_.find(pluginName);
    if (plugin == nullptr) {
      std::string hint = suggestion(pluginName, plugins_.names());
      throw ConfigError(at(body["plugin"].Mark()),
                        "unknown plugin '" + pluginName + "' in " + owner,
                        hint + " ('kiln plugins' lists them)");
    }
    return *plugin;
  }

  void checkOption(const OptionSpec& spec, const YAML::Node& value,
                   const std::string& owner) const {
    std::string what = "option '" + spec.name + "' of " + owner;
    switch (spec.type) {
      case OptionType::kString:
        scalar(value, what);
        break;
      case OptionType::kStringList:
        stringList(value, what);
        break;
      case OptionType::kStringMap:
        stringMap(value, what);
        break;
      case OptionType::kBool:
        boolean(value, what);
        break;
      case OptionType::kMap:
        if (!value.IsMap()) {
          throw ConfigError(at(value.Mark()),
                            what + " must be a map, got " + nodeKind(value),
                            "write it as key: value lines below the option");
        }
        break;
      case OptionType::kInteger: {
        long long number = 0;
        if (!value.IsScalar() ||
            !YAML::convert<long long>::decode(value, number)) {
          throw ConfigError(
              at(value.Mark()),
              what + " must be an integer, got " + nodeKind(value),
              "write a whole number");
        }
        break;
      }
    }
  }

  // Fills the fields common to targets and discovery rules.
  void parseFields(const YAML::Node& body, const std::string& owner,
                   const std::vector<std::string>& ownKeys,
                   TargetFields& fields) {
    const Plugin& plugin = findPlugin(body, owner);
    std::vector<std::string> allowed = ownKeys;
    allowed.insert(allowed.end(), kCommonTargetKeys.begin(),
                   kCommonTargetKeys.end());
    std::vector<OptionSpec> options = plugin.options();
    for (const auto& option : options) {
      allowed.push_back(option.name);
    }
    checkKeys(body, allowed, owner + " (plugin " + plugin.name() + ")");

    fields.plugin = plugin.name();
    fields.where = at(body.Mark());
    fields.includeFilters = filters_;
    for (auto it = body.begin(); it != body.end(); ++it) {
      fields.keyLocations[it->first.Scalar()] = at(it->second.Mark());
    }
    if (body["repo"])
      fields.repo = name(body["repo"], "'repo'");
    if (body["dir"])
      fields.dir = scalar(body["dir"], "'dir'");
    if (body["deps"])
      fields.deps = stringList(body["deps"], "'deps'");
    if (body["env"])
      fields.env = stringMap(body["env"], "'env'");
    if (body["pass_env"]) {
      fields.passEnv = stringList(body["pass_env"], "'pass_env'");
    }
    if (body["cache"])
      fields.cache = boolean(body["cache"], "'cache'");
    if (body["timeout"]) {
      std::string text = scalar(body["timeout"], "'timeout'");
      auto timeout = parseDuration(text);
      if (!timeout || timeout->count() == 0) {
        throw ConfigError(at(body["timeout"].Mark()),
                          "invalid timeout '" + text + "'",
                          "write a duration such as 90s, 10m or 1h");
      }
      fields.timeout = timeout;
    }
    checkRelativeDir(body, fields.dir);

    for (const auto& option : options) {
      const YAML::Node value = body[option.name];
      if (!value) {
        if (option.required) {
          throw ConfigError(
              at(body.Mark()),
              owner + " needs option '" + option.name + "' of plugin " +
                  plugin.name(),
              "add '" + option.name + ": ...' (" + option.help + ")");
        }
        continue;
      }
      checkOption(option, value, owner);
      fields.options[option.name] = value;
    }
  }

  void checkRelativeDir(const YAML::Node& body, const std::string& dir) const {
    if (dir.empty()) {
      return;
    }
    fs::path path(dir);
    bool escapes = path.is_absolute();
    for (const auto& part : path) {
      if (part == "..") {
        escapes = true;
      }
    }
    if (escapes) {
      throw ConfigError(at(body["dir"].Mark()),
                        "'dir' " + dir + " is outside the repository",
                        "give a path relative to the repository root, "
                        "without '..'");
    }
  }

  void parseTarget(const YAML::Node& body) {
    if (!body["name"]) {
      throw ConfigError(at(body.Mark()), "a target has no 'name'",
                        "add 'name: NAME', or use 'discover:' to name "
                        "targets after directories");
    }
    TargetSpec target;
    target.name = name(body["name"], "a target name");
    parseFields(body, "target '" + target.name + "'", {"name"}, target);
    pipeline_.targets.push_back(std::move(target));
  }

  void parseDiscover(const YAML::Node& entry) {
    const YAML::Node& body = entry["discover"];
    if (entry.size() != 1) {
      for (auto it = entry.begin(); it != entry.end(); ++it) {
        if (it->first.Scalar() != "discover") {
          throw ConfigError(
              at(it->first.Mark()),
              "unknown key '" + it->first.Scalar() + "' beside 'discover'",
              "move it inside the 'discover:' map");
        }
      }
    }
    if (!body.IsMap()) {
      throw ConfigError(at(body.Mark()),
                        "'discover' must be a map, got " + nodeKind(body),
                        "write 'discover: { repo: R, dir: \"apps/*\", "
                        "plugin: P }'");
    }
    DiscoverRule rule;
    parseFields(body, "a discover rule", {"exclude"}, rule);
    if (rule.dir.empty() || !hasWildcard(rule.dir)) {
      throw ConfigError(rule.locationOf("dir"),
                        "a discover rule needs 'dir' with a wildcard",
                        "write a directory glob such as \"apps/*\"");
    }
    if (body["exclude"]) {
      rule.exclude = stringList(body["exclude"], "'exclude'");
    }
    pipeline_.discover.push_back(std::move(rule));
  }

  const PluginRegistry& plugins_;
  Pipeline& pipeline_;
  std::vector<fs::path>& includeStack_;
  fs::path file_;
  std::vector<std::size_t> filters_;
};

void checkDuplicateTargets(const Pipeline& pipeline) {
  std::map<std::string, const TargetSpec*> seen;
  for (const auto& target : pipeline.targets) {
    auto [it, inserted] = seen.emplace(target.name, &target);
    if (!inserted) {
      throw ConfigError(target.locationOf("name"),
                        "duplicate target name '" + target.name +
                            "', first defined at " + it->second->where.str(),
                        "rename one of them; target names are unique across "
                        "the pipeline and its includes");
    }
  }
}

// Gives each target and discovery rule a known repository; a pipeline with
// a single repository may leave 'repo' out.
void resolveRepoNames(Pipeline& pipeline) {
  std::vector<std::string> names;
  for (const auto& repo : pipeline.repos) {
    names.push_back(repo.name);
  }
  auto check = [&](TargetFields& fields, const std::string& owner) {
    if (fields.repo.empty()) {
      if (names.size() == 1) {
        fields.repo = names.front();
        return;
      }
      throw ConfigError(fields.where, owner + " has no 'repo'",
                        names.empty() ? "add a 'repos:' section and a 'repo:' "
                                        "key"
                                      : "add 'repo: " + join(names, "|") + "'");
    }
    if (pipeline.findRepo(fields.repo) == nullptr) {
      std::string hint = suggestion(fields.repo, names);
      throw ConfigError(fields.locationOf("repo"),
                        "unknown repository '" + fields.repo + "' in " + owner,
                        hint.empty() ? "define it under 'repos:'" : hint);
    }
  };
  for (auto& target : pipeline.targets) {
    check(target, "target '" + target.name + "'");
  }
  for (auto& rule : pipeline.discover) {
    check(rule, "a discover rule");
  }
}

}  // namespace

SourceLocation TargetFields::locationOf(const std::string& key) const {
  auto found = keyLocations.find(key);
  return found == keyLocations.end() ? where : found->second;
}

const RepoSpec* Pipeline::findRepo(const std::string& name) const {
  for (const auto& repo : repos) {
    if (repo.name == name) {
      return &repo;
    }
  }
  return nullptr;
}

Pipeline parsePipeline(const std::string& text, const fs::path& file,
                       const PluginRegistry& plugins) {
  Pipeline pipeline;
  pipeline.file = file;
  std::vector<fs::path> includeStack = {file.lexically_normal()};
  FileParser parser(plugins, pipeline, includeStack);
  parser.parse(text, file, {});
  checkDuplicateTargets(pipeline);
  resolveRepoNames(pipeline);
  return pipeline;
}

Pipeline loadPipeline(const fs::path& file, const PluginRegistry& plugins) {
  std::string text;
  if (!tryReadFile(file, &text)) {
    throw UsageError(
        "pipeline file " + file.string() + " not found or not readable",
        "pass -p FILE, or run kiln where kiln.yaml is");
  }
  return parsePipeline(text, file, plugins);
}

}  // namespace kiln
