#include "cli/graph_format.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace kiln {

namespace {

std::string quoted(const std::string& text) {
  std::string result = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      result += '\\';
    }
    result += c;
  }
  return result + "\"";
}

std::string formatDot(const BuildGraph& graph,
                      const std::vector<bool>& selected) {
  std::string text = "digraph kiln {\n  rankdir=LR;\n  node [shape=box];\n";
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (!selected[i]) {
      continue;
    }
    text += "  " + quoted(graph.step(i).id) + ";\n";
    for (std::size_t dep : graph.deps(i)) {
      text += "  " + quoted(graph.step(dep).id) + " -> " +
              quoted(graph.step(i).id) + ";\n";
    }
  }
  return text + "}\n";
}

std::string formatMermaid(const BuildGraph& graph,
                          const std::vector<bool>& selected) {
  std::string text = "flowchart LR\n";
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (!selected[i]) {
      continue;
    }
    std::string node = "s" + std::to_string(i);
    text += "  " + node + "[" + quoted(graph.step(i).id) + "]\n";
    for (std::size_t dep : graph.deps(i)) {
      text += "  s" + std::to_string(dep) + " --> " + node + "\n";
    }
  }
  return text;
}

std::string formatJson(const BuildGraph& graph,
                       const std::vector<bool>& selected) {
  nlohmann::json steps = nlohmann::json::array();
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (!selected[i]) {
      continue;
    }
    const Step& step = graph.step(i);
    nlohmann::json deps = nlohmann::json::array();
    for (std::size_t dep : graph.deps(i)) {
      deps.push_back(graph.step(dep).id);
    }
    steps.push_back({{"id", step.id},
                     {"targets", step.targets},
                     {"repo", step.repo},
                     {"repo_root", step.repoRoot.string()},
                     {"plugin", step.plugin},
                     {"description", step.description},
                     {"deps", deps},
                     {"outputs", step.outputs}});
  }
  return nlohmann::json{{"steps", steps}}.dump(2) + "\n";
}

}  // namespace

std::string formatGraph(const BuildGraph& graph,
                        const std::vector<bool>& selected,
                        const std::string& format) {
  if (format == "dot") {
    return formatDot(graph, selected);
  }
  if (format == "mermaid") {
    return formatMermaid(graph, selected);
  }
  if (format == "json") {
    return formatJson(graph, selected);
  }
  throw UsageError("unknown graph format '" + format + "'",
                   "use --format dot, mermaid or json");
}

}  // namespace kiln
