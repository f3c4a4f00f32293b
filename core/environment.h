#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/step.h"

namespace kiln {

/// Variables a step sees from kiln's own environment, besides those it
/// declares: enough to find programs and a home and temporary directory,
/// and to keep the locale. They are not part of the action key, because
/// they name machine-specific paths; the identity of each tool found on PATH
/// is in the key instead.
const std::vector<std::string>& passThroughVariables();

/// A step's complete environment: the pass-through variables that are set
/// in `parent`, then the step's pass_env variables, then its declared
/// variables, which win.
std::map<std::string, std::string> stepEnvironment(
    const Step& step, const std::map<std::string, std::string>& parent);

/// The values of a step's pass_env variables that must not appear in logs.
std::vector<std::string> secretValues(
    const Step& step, const std::map<std::string, std::string>& parent);

/// kiln's own environment as a map.
std::map<std::string, std::string> currentEnvironment();

/// Replaces every occurrence of each secret in `text` with "***".
std::string maskSecrets(std::string text,
                        const std::vector<std::string>& secrets);

}  // namespace kiln
