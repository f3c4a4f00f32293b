#include "core/reporter.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "util/strings.h"

namespace kiln {

OutputMode detectOutputMode(std::FILE* out) {
  const char* github = std::getenv("GITHUB_ACTIONS");
  if (github != nullptr && std::string(github) == "true") {
    return OutputMode::kGithub;
  }
  const char* term = std::getenv("TERM");
  bool dumb = term == nullptr || std::string(term) == "dumb";
  return ::isatty(::fileno(out)) && !dumb ? OutputMode::kTty
                                          : OutputMode::kPlain;
}

std::string elide(const std::string& text, std::size_t width) {
  if (text.size() <= width) {
    return text;
  }
  if (width <= 3) {
    return text.substr(0, width);
  }
  return text.substr(0, width - 3) + "...";
}

std::string escapeWorkflowCommand(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '%':
        escaped += "%25";
        break;
      case '\r':
        escaped += "%0D";
        break;
      case '\n':
        escaped += "%0A";
        break;
      default:
        escaped += c;
        break;
    }
  }
  return escaped;
}

Reporter::Reporter(const BuildGraph& graph, OutputMode mode, std::FILE* out,
                   std::filesystem::path logDir)
    : graph_(graph), mode_(mode), logDir_(std::move(logDir)), out_(out) {}

int Reporter::terminalWidth() const {
  winsize size{};
  if (::ioctl(::fileno(out_), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

void Reporter::printLine(const std::string& text) {
  if (statusShown_) {
    std::fputs("\r\x1b[K", out_);
    statusShown_ = false;
  }
  std::fputs(text.c_str(), out_);
  std::fputc('\n', out_);
}

void Reporter::redrawStatus() {
  if (mode_ != OutputMode::kTty) {
    return;
  }
  std::vector<std::string> names;
  for (std::size_t index : running_) {
    names.push_back(graph_.step(index).id);
  }
  std::string line =
      "[" + std::to_string(finished_) + "/" + std::to_string(total_) + "] " +
      (names.empty() ? "waiting" : "building " + join(names, ", "));
  std::fputs("\r\x1b[K", out_);
  std::fputs(elide(line, static_cast<std::size_t>(terminalWidth()) - 1).c_str(),
             out_);
  std::fflush(out_);
  statusShown_ = true;
}

void Reporter::buildStarted(std::size_t stepCount) {
  std::lock_guard lock(mutex_);
  total_ = stepCount;
  redrawStatus();
}

void Reporter::stepStarted(std::size_t index) {
  std::lock_guard lock(mutex_);
  running_.push_back(index);
  if (mode_ == OutputMode::kPlain) {
    printLine("[" + std::to_string(finished_) + "/" + std::to_string(total_) +
              "] start " + graph_.step(index).id);
    std::fflush(out_);
  } else {
    redrawStatus();
  }
}

void Reporter::stepFinished(std::size_t index, const StepOutcome& outcome) {
  std::lock_guard lock(mutex_);
  running_.erase(std::remove(running_.begin(), running_.end(), index),
                 running_.end());
  ++finished_;
  const Step& step = graph_.step(index);
  std::string progress =
      "[" + std::to_string(finished_) + "/" + std::to_string(total_) + "] ";
  if (mode_ == OutputMode::kGithub) {
    // The group's title is the step's line, so it is not printed again.
    printGithubGroup(index, progress, outcome);
  }
  switch (outcome.status) {
    case StepStatus::kFailed:
      if (mode_ == OutputMode::kGithub) {
        break;  // the group and the ::error line already show it
      }
      printLine(progress + "FAILED " + step.id + ": " + outcome.detail);
      break;
    case StepStatus::kSkipped:
      printLine(progress + "skipped " + step.id + ": " + outcome.detail);
      break;
    case StepStatus::kCancelled:
      printLine(progress + "cancelled " + step.id);
      break;
    default:
      if (mode_ == OutputMode::kPlain) {
        printLine(progress + statusName(outcome.status) + " " + step.id + " (" +
                  formatDuration(outcome.duration()) + ")");
      }
      break;
  }
  if (!outcome.note.empty()) {
    printLine("warning: " + outcome.note);
  }
  if (explain_ && !outcome.detail.empty() &&
      outcome.status == StepStatus::kBuilt) {
    printLine("  " + step.id + ": " + outcome.detail);
  }
  redrawStatus();
  std::fflush(out_);
}

void Reporter::printGithubGroup(std::size_t index, const std::string& progress,
                                const StepOutcome& outcome) {
  const Step& step = graph_.step(index);
  std::string log;
  if (!logDir_.empty()) {
    std::ifstream in(logDir_ / logFileName(step.id), std::ios::binary);
    log.assign(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
  }
  printLine("::group::" + progress + statusName(outcome.status) + " " +
            step.id + " (" +
            formatDuration(outcome.duration()) + ")");
  if (!log.empty()) {
    if (log.back() == '\n') {
      log.pop_back();
    }
    printLine(log);
  }
  printLine("::endgroup::");
  if (outcome.status == StepStatus::kFailed) {
    std::string first = outcome.detail.substr(0, outcome.detail.find('\n'));
    printLine("::error title=" + escapeWorkflowCommand("kiln: " + step.id) +
              "::" + escapeWorkflowCommand(step.id + " failed: " + first));
  }
}

void Reporter::message(const std::string& text) {
  std::lock_guard lock(mutex_);
  printLine(text);
  redrawStatus();
  std::fflush(out_);
}

void Reporter::warning(const std::string& text) {
  message("warning: " + text);
}

void Reporter::finish() {
  std::lock_guard lock(mutex_);
  if (statusShown_) {
    std::fputs("\r\x1b[K", out_);
    statusShown_ = false;
  }
  std::fflush(out_);
}

namespace {

// Orders statuses from best to worst, so a target shows its worst step.
int severity(StepStatus status) {
  switch (status) {
    case StepStatus::kUpToDate:
      return 0;
    case StepStatus::kRestored:
      return 1;
    case StepStatus::kBuilt:
      return 2;
    case StepStatus::kNotRun:
      return 3;
    case StepStatus::kSkipped:
      return 4;
    case StepStatus::kCancelled:
      return 5;
    case StepStatus::kDepFailed:
      return 6;
    case StepStatus::kFailed:
      return 7;
  }
  return 0;
}

}  // namespace

void Reporter::printSummary(const std::vector<StepOutcome>& outcomes,
                            const std::vector<std::string>& targets) {
  std::lock_guard lock(mutex_);
  if (targets.empty()) {
    return;  // the build already printed why nothing was selected
  }
  struct Row {
    StepStatus status = StepStatus::kUpToDate;
    int built = 0;
    int restored = 0;
    int upToDate = 0;
    std::chrono::milliseconds duration{0};
    std::uint64_t bytes = 0;
    std::uint64_t imageBytes = 0;
  };
  // A target's row counts all of its steps' statuses, but only the time and
  // output size of the steps it does not share with other targets; the
  // size is that of its image when it has one.
  std::map<std::string, Row> rows;
  for (const auto& target : targets) {
    Row& row = rows[target];
    for (std::size_t index : graph_.stepsOfTarget(target)) {
      const Step& step = graph_.step(index);
      const StepOutcome& outcome = outcomes[index];
      if (severity(outcome.status) > severity(row.status)) {
        row.status = outcome.status;
      }
      if (outcome.status == StepStatus::kBuilt) {
        ++row.built;
      } else if (outcome.status == StepStatus::kRestored) {
        ++row.restored;
      } else if (outcome.status == StepStatus::kUpToDate) {
        ++row.upToDate;
      }
      if (step.shared) {
        continue;
      }
      row.duration += outcome.duration();
      if (step.kind == StepKind::kImage) {
        row.imageBytes += outcome.outputBytes;
      } else {
        row.bytes += outcome.outputBytes;
      }
    }
    if (row.imageBytes > 0) {
      row.bytes = row.imageBytes;
    }
  }
  std::size_t width = 6;
  for (const auto& target : targets) {
    width = std::max(width, target.size());
  }
  auto pad = [](std::string text, std::size_t size) {
    if (text.size() < size) {
      text.append(size - text.size(), ' ');
    }
    return text;
  };
  printLine(pad("TARGET", width) + "  " + pad("STATUS", 11) + "  " +
            pad("STEPS", 22) + "  " + pad("TIME", 8) + "  ARTIFACT SIZE");
  for (const auto& target : targets) {
    const Row& row = rows[target];
    std::vector<std::string> counts;
    if (row.built > 0) {
      counts.push_back(std::to_string(row.built) + " built");
    }
    if (row.restored > 0) {
      counts.push_back(std::to_string(row.restored) + " restored");
    }
    if (row.upToDate > 0) {
      counts.push_back(std::to_string(row.upToDate) + " up to date");
    }
    std::string steps = counts.empty() ? "-" : join(counts, ", ");
    printLine(pad(target, width) + "  " + pad(statusName(row.status), 11) +
              "  " + pad(steps, 22) + "  " +
              pad(formatDuration(row.duration), 8) + "  " +
              (row.bytes > 0 ? formatBytes(row.bytes) : "-"));
  }
  std::fflush(out_);
}

}  // namespace kiln
