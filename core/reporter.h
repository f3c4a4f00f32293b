#pragma once

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/scheduler.h"

namespace kiln {

/// How progress is shown.
enum class OutputMode {
  kTty,     // one status line, redrawn in place
  kPlain,   // one line per step start and finish
  kGithub,  // plain lines, each step's log in a ::group::, failures as
            // ::error annotations (GitHub Actions workflow commands)
};

/// Shows build progress on a terminal or in a log, and the summary at the
/// end. Observes the scheduler; never drives it.
class Reporter : public BuildObserver {
 public:
  /// `logDir` holds the step logs that GitHub mode prints in groups.
  Reporter(const BuildGraph& graph, OutputMode mode, std::FILE* out,
           std::filesystem::path logDir = {});

  void buildStarted(std::size_t stepCount) override;
  void stepStarted(std::size_t index) override;
  void stepFinished(std::size_t index, const StepOutcome& outcome) override;

  /// Prints a line above the status line.
  void message(const std::string& text);
  void warning(const std::string& text);

  /// Prints the table of targets: status, built or cached, duration and
  /// output size, then one line of totals.
  void printSummary(const std::vector<StepOutcome>& outcomes,
                    const std::vector<std::string>& targets);

  /// Clears the status line, if any.
  void finish();

  /// Shows each step's action-key explanation in --explain mode.
  void setExplain(bool explain) { explain_ = explain; }

 private:
  void printLine(const std::string& text);
  void printGithubGroup(std::size_t index, const std::string& progress,
                        const StepOutcome& outcome);
  void redrawStatus();
  int terminalWidth() const;

  const BuildGraph& graph_;
  OutputMode mode_;
  std::filesystem::path logDir_;
  std::FILE* out_;
  std::mutex mutex_;
  std::size_t total_ = 0;
  std::size_t finished_ = 0;
  std::vector<std::size_t> running_;
  bool statusShown_ = false;
  bool explain_ = false;
};

/// Picks GitHub mode when GITHUB_ACTIONS is "true", the terminal mode when
/// `out` is a terminal and TERM is not "dumb", else plain lines.
OutputMode detectOutputMode(std::FILE* out);

/// Escapes text for a GitHub Actions workflow command: '%', CR and LF.
std::string escapeWorkflowCommand(const std::string& text);

/// Shortens text to `width` columns, ending it with "..." when cut.
std::string elide(const std::string& text, std::size_t width);

}  // namespace kiln
