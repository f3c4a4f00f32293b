#include "core/environment.h"

#include <algorithm>

extern char** environ;

namespace kiln {

const std::vector<std::string>& passThroughVariables() {
  static const std::vector<std::string> kVariables = {
      "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"};
  return kVariables;
}

std::map<std::string, std::string> stepEnvironment(
    const Step& step, const std::map<std::string, std::string>& parent) {
  std::map<std::string, std::string> env;
  for (const auto& name : passThroughVariables()) {
    auto found = parent.find(name);
    if (found != parent.end()) {
      env[name] = found->second;
    }
  }
  for (const auto* names : {&step.passEnv, &step.passEnvPlain}) {
    for (const auto& name : *names) {
      auto found = parent.find(name);
      if (found != parent.end()) {
        env[name] = found->second;
      }
    }
  }
  for (const auto& [name, value] : step.env) {
    env[name] = value;
  }
  return env;
}

std::vector<std::string> secretValues(
    const Step& step, const std::map<std::string, std::string>& parent) {
  std::vector<std::string> secrets;
  for (const auto& name : step.passEnv) {
    auto found = parent.find(name);
    // Values shorter than 4 characters would mask ordinary words.
    if (found != parent.end() && found->second.size() >= 4) {
      secrets.push_back(found->second);
    }
  }
  return secrets;
}

std::map<std::string, std::string> currentEnvironment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    std::size_t equals = text.find('=');
    if (equals != std::string::npos) {
      env[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }
  return env;
}

std::string maskSecrets(std::string text,
                        const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) {
      continue;
    }
    std::size_t position = 0;
    while ((position = text.find(secret, position)) != std::string::npos) {
      text.replace(position, secret.size(), "***");
      position += 3;
    }
  }
  return text;
}

}  // namespace kiln
