#include "core/report_files.h"

#include <nlohmann/json.hpp>

#include "util/atomic_file.h"

namespace kiln {

namespace {

bool isHit(StepStatus status) {
  return status == StepStatus::kRestored || status == StepStatus::kUpToDate;
}

std::string cacheName(const StepOutcome& outcome) {
  switch (outcome.status) {
    case StepStatus::kRestored:
      return outcome.cacheSource;
    case StepStatus::kUpToDate:
      return "workspace";
    default:
      return "";
  }
}

}  // namespace

void writeSummaryJson(const std::filesystem::path& file,
                      const BuildGraph& graph,
                      const std::vector<bool>& selected,
                      const std::vector<StepOutcome>& outcomes,
                      const BuildStats& stats) {
  nlohmann::json steps = nlohmann::json::array();
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (!selected[i]) {
      continue;
    }
    const Step& step = graph.step(i);
    const StepOutcome& outcome = outcomes[i];
    steps.push_back({{"id", step.id},
                     {"targets", step.targets},
                     {"status", statusName(outcome.status)},
                     {"key", outcome.actionKey},
                     {"hit", isHit(outcome.status)},
                     {"cache", cacheName(outcome)},
                     {"duration_ms", outcome.duration().count()},
                     {"outputs", step.outputs},
                     {"output_digest", outcome.outputDigest},
                     {"output_bytes", outcome.outputBytes},
                     {"detail", outcome.detail}});
  }
  nlohmann::json document = {{"version", 1},
                             {"wall_ms", stats.wall.count()},
                             {"critical_path_ms", stats.criticalPath.count()},
                             {"step_time_ms", stats.totalStepTime.count()},
                             {"jobs", stats.jobs},
                             {"efficiency", stats.efficiency()},
                             {"steps", steps}};
  writeFileAtomic(file, document.dump(2) + "\n");
}

void writeChromeTrace(const std::filesystem::path& file,
                      const BuildGraph& graph,
                      const std::vector<bool>& selected,
                      const std::vector<StepOutcome>& outcomes) {
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"args", {{"name", "kiln build"}}}});
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const StepOutcome& outcome = outcomes[i];
    bool started = outcome.status != StepStatus::kNotRun &&
                   outcome.status != StepStatus::kDepFailed;
    if (!selected[i] || !started) {
      continue;
    }
    events.push_back({{"name", graph.step(i).id},
                      {"cat", statusName(outcome.status)},
                      {"ph", "X"},
                      {"ts", outcome.started.count() * 1000},
                      {"dur", outcome.duration().count() * 1000},
                      {"pid", 1},
                      {"tid", outcome.worker + 1},
                      {"args",
                       {{"status", statusName(outcome.status)},
                        {"key", outcome.actionKey}}}});
  }
  nlohmann::json document = {{"traceEvents", events},
                             {"displayTimeUnit", "ms"}};
  writeFileAtomic(file, document.dump() + "\n");
}

std::string escapeXml(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' &&
            c != '\r') {
          escaped += '?';
        } else {
          escaped += c;
        }
    }
  }
  return escaped;
}

void writeJunit(const std::filesystem::path& file, const BuildGraph& graph,
                const std::vector<bool>& selected,
                const std::vector<StepOutcome>& outcomes,
                const BuildStats& stats) {
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::size_t skipped = 0;
  std::string cases;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    if (!selected[i]) {
      continue;
    }
    const Step& step = graph.step(i);
    const StepOutcome& outcome = outcomes[i];
    ++tests;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f",
                  static_cast<double>(outcome.duration().count()) / 1000.0);
    cases += "  <testcase classname=\"" + escapeXml(step.target) +
             "\" name=\"" + escapeXml(step.id) + "\" time=\"" + seconds +
             "\">\n";
    if (outcome.status == StepStatus::kFailed ||
        outcome.status == StepStatus::kDepFailed ||
        outcome.status == StepStatus::kCancelled) {
      ++failures;
      std::string first = outcome.detail.substr(0, outcome.detail.find('\n'));
      cases += "    <failure message=\"" + escapeXml(first) + "\">" +
               escapeXml(outcome.detail) + "</failure>\n";
    } else if (outcome.status == StepStatus::kSkipped ||
               outcome.status == StepStatus::kNotRun) {
      ++skipped;
      cases += "    <skipped message=\"" +
               escapeXml(outcome.detail.empty() ? statusName(outcome.status)
                                                : outcome.detail) +
               "\"/>\n";
    }
    cases += "  </testcase>\n";
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f",
                static_cast<double>(stats.wall.count()) / 1000.0);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuite name=\"kiln build\" tests=\"" +
      std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
      "\" skipped=\"" + std::to_string(skipped) + "\" time=\"" + seconds +
      "\">\n" + cases + "</testsuite>\n";
  writeFileAtomic(file, xml);
}

}  // namespace kiln
