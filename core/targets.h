#pragma once

#include <string>
#include <vector>

#include "core/pipeline.h"
#include "core/workspace.h"

namespace kiln {

/// Produces the pipeline's final target list: expands discovery rules over
/// the repositories' directories, applies include filters, and checks the
/// dependencies (unknown names with a did-you-mean, cycles with the whole
/// path). Throws ConfigError naming file:line:col.
std::vector<TargetSpec> resolveTargets(const Pipeline& pipeline,
                                       const Workspace& workspace);

/// Returns a cycle among the targets' dependencies as names, first name
/// repeated at the end ("a", "b", "a"), or an empty list if there is none.
std::vector<std::string> findTargetCycle(
    const std::vector<TargetSpec>& targets);

/// Selects targets by name, by glob ("auth*") or by repository ("front:*").
/// Throws UsageError for a selector that matches nothing.
std::vector<std::string> selectTargets(
    const std::vector<TargetSpec>& targets,
    const std::vector<std::string>& selectors);

}  // namespace kiln
