#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/session.h"

namespace kiln {

/// `kiln clean [TARGET...]`: removes the outputs of the selected targets'
/// steps (a step shared with an unselected target is kept) and their state
/// in the workspace; with no target, all outputs and all of the workspace's
/// state but its lock. Never touches the cache.
int runClean(Session& session, const std::vector<std::string>& targets);

/// `kiln cache stats`.
int runCacheStats();

/// `kiln cache verify`: exit status 1 if any blob or entry is bad.
int runCacheVerify();

/// `kiln cache gc`: sizes such as "10G", ages such as "30d".
int runCacheGc(const std::optional<std::string>& maxSize,
               const std::optional<std::string>& maxAge);

}  // namespace kiln
