#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/scheduler.h"

namespace kiln {

/// Writes the summary of a build as JSON: for each selected step its id,
/// targets, status, action key, whether it was a cache hit and where from,
/// duration, outputs and output digest.
void writeSummaryJson(const std::filesystem::path& file,
                      const BuildGraph& graph,
                      const std::vector<bool>& selected,
                      const std::vector<StepOutcome>& outcomes,
                      const BuildStats& stats);

/// Writes a Chrome trace (the JSON object format that Perfetto and
/// chrome://tracing open): one complete event per step that started, on
/// the track of the worker that ran it.
void writeChromeTrace(const std::filesystem::path& file,
                      const BuildGraph& graph,
                      const std::vector<bool>& selected,
                      const std::vector<StepOutcome>& outcomes);

/// Writes a JUnit XML report: one test case per selected step, failures
/// with the step's message, skipped steps as skipped.
void writeJunit(const std::filesystem::path& file, const BuildGraph& graph,
                const std::vector<bool>& selected,
                const std::vector<StepOutcome>& outcomes,
                const BuildStats& stats);

/// Escapes text for XML character data and attribute values.
std::string escapeXml(const std::string& text);

}  // namespace kiln
