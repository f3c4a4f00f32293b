#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/image_spec.h"
#include "core/plugin.h"

namespace kiln {

/// The option every artifact plugin takes to build an image, and its
/// schema line for `kiln plugins`.
OptionSpec imageOptionSpec(const std::string& defaults);

/// Reads the `image:` option of a target into an ImageSpec that starts from
/// the plugin's `defaults` (base, working dir, env, cmd, user, ports).
/// Keys: name, tag, service, base, user, workdir, env (map), entrypoint,
/// cmd, ports, labels (map), stop_signal, compression. `${VAR}` and
/// `${VAR:-default}` in `base` are replaced from kiln's environment, so one
/// pipeline can name a public base for users and a loopback registry in
/// tests. Throws ConfigError at the offending key.
ImageSpec readImageOption(const ExpandContext& context, ImageSpec defaults);

/// Replaces `${VAR}` and `${VAR:-default}` with values from `env`. Throws
/// UsageError for an unset variable without a default.
std::string expandVariables(const std::string& text,
                            const std::map<std::string, std::string>& env);

/// The defaults of a plugin's image: base (`${VAR:-default}` allowed),
/// working directory and the non-root user 10001:10001; with `port` > 0,
/// PORT in the environment and the port exposed.
ImageSpec imageDefaults(const ExpandContext& context, const std::string& base,
                        const std::string& workingDir, int port);

/// Makes the image step of a target: id "TARGET:image", depending on the
/// steps that produce its layers.
Step makeImageStep(const ExpandContext& context, ImageSpec spec);

}  // namespace kiln
