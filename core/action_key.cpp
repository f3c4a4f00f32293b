#include "core/action_key.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "util/strings.h"

namespace kiln {

namespace {

constexpr const char* kKeyVersion = "kiln-action-key-v1";

// Appends a length-prefixed field, so no two field lists encode the same.
void field(std::string& out, const std::string& text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
  out += '\n';
}

}  // namespace

std::string currentPlatform() {
  struct utsname name;
  if (::uname(&name) != 0) {
    return "unknown";
  }
  std::string system = name.sysname;
  for (auto& c : system) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return system + " " + name.machine;
}

Digest KeyInputs::key() const {
  std::string encoding;
  field(encoding, kKeyVersion);
  field(encoding, "plugin " + plugin + " " + std::to_string(pluginVersion));
  field(encoding, "kind " + kind);
  field(encoding, "platform " + platform);
  field(encoding, "cwd " + workingDir);
  field(encoding, "argv " + std::to_string(argv.size()));
  for (const auto& arg : argv) {
    field(encoding, arg);
  }
  field(encoding, "env " + std::to_string(env.size()));
  for (const auto& [name, value] : env) {
    field(encoding, name);
    field(encoding, value);
  }
  field(encoding, "tools " + std::to_string(tools.size()));
  for (const auto& [name, identity] : tools) {
    field(encoding, name);
    field(encoding, identity);
  }
  field(encoding, "inputs " + std::to_string(inputs.size()));
  for (const auto& input : inputs) {
    field(encoding, input.path);
    field(encoding, std::string(input.symlink ? "l" : "f") +
                        (input.executable ? "x" : "-") + input.digest.hex());
  }
  field(encoding, "deps " + std::to_string(deps.size()));
  for (const auto& [id, digest] : deps) {
    field(encoding, id);
    field(encoding, digest);
  }
  field(encoding, "outputs " + std::to_string(outputs.size()));
  for (const auto& output : outputs) {
    field(encoding, output);
  }
  field(encoding, "content " + content);
  return sha256(encoding);
}

std::string KeyInputs::toJson() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& input : inputs) {
    files.push_back(
        {input.path, input.symlink, input.executable, input.digest.hex()});
  }
  nlohmann::json document = {
      {"plugin", plugin},   {"plugin_version", pluginVersion},
      {"kind", kind},       {"platform", platform},
      {"cwd", workingDir},  {"argv", argv},
      {"env", env},         {"tools", tools},
      {"inputs", files},    {"deps", deps},
      {"outputs", outputs}, {"content", content}};
  return document.dump();
}

bool KeyInputs::fromJson(const std::string& text, KeyInputs* result) {
  try {
    nlohmann::json document = nlohmann::json::parse(text);
    KeyInputs parsed;
    parsed.plugin = document.at("plugin");
    parsed.pluginVersion = document.at("plugin_version");
    parsed.kind = document.at("kind");
    parsed.platform = document.at("platform");
    parsed.workingDir = document.at("cwd");
    parsed.argv = document.at("argv").get<std::vector<std::string>>();
    parsed.env = document.at("env").get<std::map<std::string, std::string>>();
    parsed.tools =
        document.at("tools").get<std::map<std::string, std::string>>();
    for (const auto& item : document.at("inputs")) {
      InputFile input;
      input.path = item.at(0);
      input.symlink = item.at(1);
      input.executable = item.at(2);
      if (!Digest::parse(item.at(3).get<std::string>(), &input.digest)) {
        return false;
      }
      parsed.inputs.push_back(std::move(input));
    }
    parsed.deps = document.at("deps").get<std::map<std::string, std::string>>();
    parsed.outputs = document.at("outputs").get<std::vector<std::string>>();
    parsed.content = document.at("content");
    *result = std::move(parsed);
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

namespace {

template <typename Map>
void compareMaps(const Map& before, const Map& after, const std::string& what,
                 bool showValues, std::vector<std::string>& changes) {
  for (const auto& [name, value] : after) {
    auto old = before.find(name);
    if (old == before.end()) {
      changes.push_back(what + " " + name + " added");
    } else if (old->second != value) {
      changes.push_back(
          what + " " + name + " changed" +
          (showValues ? " (" + old->second + " -> " + value + ")" : ""));
    }
  }
  for (const auto& [name, value] : before) {
    if (after.count(name) == 0) {
      changes.push_back(what + " " + name + " removed");
    }
  }
}

}  // namespace

std::vector<std::string> explainChanges(const KeyInputs& before,
                                        const KeyInputs& after) {
  std::vector<std::string> changes;
  if (before.plugin != after.plugin ||
      before.pluginVersion != after.pluginVersion) {
    changes.push_back("plugin changed (" + before.plugin + " " +
                      std::to_string(before.pluginVersion) + " -> " +
                      after.plugin + " " + std::to_string(after.pluginVersion) +
                      ")");
  }
  if (before.platform != after.platform) {
    changes.push_back("platform changed (" + before.platform + " -> " +
                      after.platform + ")");
  }
  if (before.argv != after.argv || before.workingDir != after.workingDir ||
      before.kind != after.kind) {
    changes.push_back("command changed");
  }
  if (before.outputs != after.outputs) {
    changes.push_back("declared outputs changed");
  }
  if (before.content != after.content) {
    changes.push_back("generated file content changed");
  }
  // Values of env variables are shown: secrets are never declared env.
  compareMaps(before.env, after.env, "env", true, changes);
  compareMaps(before.tools, after.tools, "tool", true, changes);

  std::map<std::string, std::string> oldFiles;
  std::map<std::string, std::string> newFiles;
  for (const auto& input : before.inputs) {
    oldFiles[input.path] = (input.executable ? "x" : "-") + input.digest.hex();
  }
  for (const auto& input : after.inputs) {
    newFiles[input.path] = (input.executable ? "x" : "-") + input.digest.hex();
  }
  for (const auto& [path, value] : newFiles) {
    auto old = oldFiles.find(path);
    if (old == oldFiles.end()) {
      changes.push_back("input " + path + " added");
    } else if (old->second != value) {
      bool modeOnly = old->second.substr(1) == value.substr(1);
      changes.push_back("input " + path +
                        (modeOnly ? " executable bit changed" : " modified"));
    }
  }
  for (const auto& [path, value] : oldFiles) {
    if (newFiles.count(path) == 0) {
      changes.push_back("input " + path + " removed");
    }
  }
  compareMaps(before.deps, after.deps, "dependency", false, changes);
  return changes;
}

}  // namespace kiln
