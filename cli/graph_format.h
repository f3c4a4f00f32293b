#pragma once

#include <string>
#include <vector>

#include "core/graph.h"

namespace kiln {

/// Renders the selected steps of a graph as Graphviz dot, a Mermaid
/// flowchart, or JSON ({"steps": [{"id", "target", "deps", ...}]}).
/// Throws UsageError for an unknown format.
std::string formatGraph(const BuildGraph& graph,
                        const std::vector<bool>& selected,
                        const std::string& format);

}  // namespace kiln
