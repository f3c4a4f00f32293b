#include "plugins/command.h"

#include "plugins/image_options.h"
#include "util/strings.h"

namespace kiln {

std::string relativeToRepo(const std::string& dir, const std::string& path) {
  if (dir.empty()) {
    return path;
  }
  if (startsWith(path, "!")) {
    return "!" + dir + "/" + path.substr(1);
  }
  return dir + "/" + path;
}

std::string CommandPlugin::summary() const {
  return "runs one command with declared inputs and outputs";
}

std::vector<OptionSpec> CommandPlugin::options() const {
  return {
      {"run", OptionType::kString, false,
       "shell command line, run with /bin/sh -c", ""},
      {"argv", OptionType::kStringList, false,
       "program and arguments, run without a shell", ""},
      {"inputs", OptionType::kStringList, false,
       "globs of input files, relative to dir; '!' excludes",
       "everything under dir but outputs, .git and node_modules"},
      {"outputs", OptionType::kStringList, false,
       "files or directories the command writes, relative to dir; '!' globs "
       "exclude paths below them that are not outputs",
       "none"},
      {"tools", OptionType::kStringList, false,
       "programs whose version is part of the action key",
       "the program of argv, or sh for run"},
      imageOptionSpec("none; with it, the outputs go under the image's "
                      "workdir (/app) on a scratch base, as user "
                      "10001:10001"),
  };
}

std::vector<Step> CommandPlugin::expand(const ExpandContext& context) const {
  const TargetSpec& target = context.target();
  bool hasRun = context.has("run");
  bool hasArgv = context.has("argv");
  if (hasRun == hasArgv) {
    throw ConfigError(
        target.where,
        "target '" + target.name + "' needs exactly one of 'run' and 'argv'",
        "add 'run: \"make all\"' or 'argv: [make, all]'");
  }
  Step step = context.makeStep(target.name, "run " + target.name);
  if (hasRun) {
    if (context.string("run").find_first_not_of(" \t\n") ==
        std::string::npos) {
      throw context.optionError("run", "'run' of target '" + target.name +
                                           "' is empty",
                                "write the command line to run");
    }
    step.argv = {"/bin/sh", "-c", context.string("run")};
    step.tools = {"sh"};
  } else {
    step.argv = context.stringList("argv");
    if (context.isScalar("argv") &&
        step.argv.front().find(' ') != std::string::npos) {
      throw context.optionError(
          "argv",
          "'argv' of target '" + target.name + "' is one string with spaces",
          "write the program and each argument as a list item, such as "
          "[echo, hi], or use 'run:' for a shell command line");
    }
    if (step.argv.empty() || step.argv.front().empty()) {
      throw context.optionError("argv", "'argv' is empty",
                                "name the program to run");
    }
    step.tools = {step.argv.front()};
  }
  if (context.has("tools")) {
    step.tools = context.stringList("tools");
  }

  for (const auto& output : context.stringList("outputs")) {
    step.outputs.push_back(relativeToRepo(target.dir, output));
  }
  std::vector<std::string> inputs = context.stringList("inputs");
  if (!context.has("inputs")) {
    step.defaultInputs = true;
    inputs = {"**", "!.git", "!node_modules", "!**/node_modules", "!.kiln"};
    for (const auto& output : context.stringList("outputs")) {
      if (!startsWith(output, "!")) {
        inputs.push_back("!" + output);
      }
    }
  }
  for (const auto& input : inputs) {
    step.inputs.push_back(relativeToRepo(target.dir, input));
  }
  if (!context.has("image")) {
    return {step};
  }

  ImageSpec defaults;
  defaults.name = target.name;
  defaults.workingDir = "/app";
  defaults.user = "10001:10001";
  ImageSpec image = readImageOption(context, defaults);
  std::string root = image.workingDir.empty() ? "/" : image.workingDir;
  for (const auto& output : context.stringList("outputs")) {
    if (startsWith(output, "!")) {
      continue;  // an exclusion, not an output
    }
    ImageLayerSpec layer;
    layer.step = step.id;
    layer.source = relativeToRepo(target.dir, output);
    layer.destination = root + "/" + output;
    image.layers.push_back(layer);
  }
  return {step, makeImageStep(context, image)};
}

}  // namespace kiln
