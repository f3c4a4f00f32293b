#include "plugins/image_options.h"

#include <algorithm>
#include <memory>

#include "core/environment.h"
#include "util/strings.h"

namespace kiln {

namespace {

const std::vector<std::string> kImageKeys = {
    "name",    "tag",         "service",    "base", "user",
    "workdir", "env",         "entrypoint", "cmd",  "ports",
    "labels",  "stop_signal", "compression"};

std::vector<std::string> listOf(const ExpandContext& context,
                                const YAML::Node& value,
                                const std::string& key) {
  if (value.IsScalar()) {
    return {value.Scalar()};
  }
  if (!value.IsSequence()) {
    throw ConfigError(context.locationIn("image", key),
                      "image '" + key + "' must be a list of strings",
                      "write a list such as [node, dist/main.js]");
  }
  std::vector<std::string> items;
  for (const auto& item : value) {
    items.push_back(item.as<std::string>());
  }
  return items;
}

std::map<std::string, std::string> mapOf(const ExpandContext& context,
                                         const YAML::Node& value,
                                         const std::string& key) {
  if (!value.IsMap()) {
    throw ConfigError(context.locationIn("image", key),
                      "image '" + key + "' must be a map",
                      "write NAME: value lines below it");
  }
  std::map<std::string, std::string> items;
  for (auto it = value.begin(); it != value.end(); ++it) {
    items[it->first.as<std::string>()] = it->second.as<std::string>();
  }
  return items;
}

}  // namespace

OptionSpec imageOptionSpec(const std::string& defaults) {
  return {"image", OptionType::kMap, false,
          "build an OCI image: name, tag, service, base, user, workdir, env, "
          "entrypoint, cmd, ports, labels, stop_signal, compression",
          defaults};
}

std::string expandVariables(const std::string& text,
                            const std::map<std::string, std::string>& env) {
  std::string result;
  std::size_t position = 0;
  while (true) {
    std::size_t start = text.find("${", position);
    if (start == std::string::npos) {
      result += text.substr(position);
      return result;
    }
    std::size_t end = text.find('}', start);
    if (end == std::string::npos) {
      throw UsageError("unclosed '${' in '" + text + "'",
                       "write ${NAME} or ${NAME:-default}");
    }
    result += text.substr(position, start - position);
    std::string inner = text.substr(start + 2, end - start - 2);
    std::string name = inner;
    std::optional<std::string> fallback;
    if (std::size_t dash = inner.find(":-"); dash != std::string::npos) {
      name = inner.substr(0, dash);
      fallback = inner.substr(dash + 2);
    }
    auto found = env.find(name);
    if (found != env.end() && !found->second.empty()) {
      result += found->second;
    } else if (fallback) {
      result += *fallback;
    } else {
      throw UsageError("variable " + name + " in '" + text + "' is not set",
                       "set it, or write ${" + name + ":-DEFAULT}");
    }
    position = end + 1;
  }
}

ImageSpec readImageOption(const ExpandContext& context, ImageSpec spec) {
  YAML::Node image = context.node("image");
  for (auto it = image.begin(); it != image.end(); ++it) {
    std::string key = it->first.as<std::string>();
    if (std::find(kImageKeys.begin(), kImageKeys.end(), key) ==
        kImageKeys.end()) {
      std::string hint = suggestion(key, kImageKeys);
      throw ConfigError(context.locationIn("image", key),
                        "unknown key '" + key + "' in option 'image'", hint);
    }
  }
  auto text = [&](const std::string& key, std::string* value) {
    if (image[key]) {
      if (!image[key].IsScalar()) {
        throw ConfigError(context.locationIn("image", key),
                          "image '" + key + "' must be a string",
                          "write a single value");
      }
      *value = image[key].Scalar();
    }
  };
  text("name", &spec.name);
  text("tag", &spec.tag);
  text("service", &spec.composeService);
  text("base", &spec.base);
  text("user", &spec.user);
  text("workdir", &spec.workingDir);
  text("stop_signal", &spec.stopSignal);
  text("compression", &spec.compression);
  if (spec.compression != "gzip" && spec.compression != "zstd") {
    throw ConfigError(context.locationIn("image", "compression"),
                      "unknown image compression '" + spec.compression + "'",
                      "write gzip (the default) or zstd");
  }
  if (image["env"]) {
    for (const auto& [name, value] : mapOf(context, image["env"], "env")) {
      std::string entry = name + "=" + value;
      auto same = std::find_if(spec.env.begin(), spec.env.end(),
                               [&](const std::string& existing) {
                                 return startsWith(existing, name + "=");
                               });
      if (same != spec.env.end()) {
        *same = entry;
      } else {
        spec.env.push_back(entry);
      }
    }
  }
  if (image["entrypoint"]) {
    spec.entrypoint = listOf(context, image["entrypoint"], "entrypoint");
    spec.setEntrypoint = true;
  }
  if (image["cmd"]) {
    spec.cmd = listOf(context, image["cmd"], "cmd");
    spec.setCmd = true;
  }
  if (image["ports"]) {
    spec.exposedPorts = listOf(context, image["ports"], "ports");
  }
  if (image["labels"]) {
    for (const auto& [name, value] :
         mapOf(context, image["labels"], "labels")) {
      spec.labels[name] = value;
    }
  }
  try {
    spec.base = expandVariables(spec.base, currentEnvironment());
  } catch (const UsageError& error) {
    throw ConfigError(context.locationIn("image", "base"), error.what(),
                      error.hint());
  }
  return spec;
}

ImageSpec imageDefaults(const ExpandContext& context, const std::string& base,
                        const std::string& workingDir, int port) {
  ImageSpec spec;
  spec.name = context.target().name;
  spec.base = base;
  spec.workingDir = workingDir;
  spec.user = "10001:10001";
  if (port > 0) {
    spec.env.push_back("PORT=" + std::to_string(port));
    spec.exposedPorts.push_back(std::to_string(port));
  }
  return spec;
}

Step makeImageStep(const ExpandContext& context, ImageSpec spec) {
  Step step =
      context.makeStep(context.target().name + ":image", "image " + spec.name);
  step.kind = StepKind::kImage;
  step.workingDir.clear();
  for (const auto& layer : spec.layers) {
    if (!layer.step.empty() && std::find(step.deps.begin(), step.deps.end(),
                                         layer.step) == step.deps.end()) {
      step.deps.push_back(layer.step);
    }
  }
  step.image = std::make_shared<const ImageSpec>(std::move(spec));
  return step;
}

}  // namespace kiln
