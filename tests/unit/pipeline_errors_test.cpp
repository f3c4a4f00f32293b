// Each file in tests/data/bad is a pipeline with one mistake. Its first line
// states the expected error: "# error: LINE:COL: PART | PART ...", where
// every PART must appear in the rendered message or its fix.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/graph.h"
#include "core/pipeline_loader.h"
#include "core/targets.h"
#include "plugins/builtin.h"
#include "util/strings.h"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

struct Expectation {
  int line = 0;
  int column = 0;
  std::vector<std::string> parts;
};

Expectation readExpectation(const fs::path& file) {
  std::ifstream in(file);
  std::string first;
  std::getline(in, first);
  const std::string prefix = "# error: ";
  REQUIRE(startsWith(first, prefix));
  std::string rest = first.substr(prefix.size());
  Expectation expectation;
  std::size_t colon1 = rest.find(':');
  std::size_t colon2 = rest.find(':', colon1 + 1);
  expectation.line = std::stoi(rest.substr(0, colon1));
  expectation.column = std::stoi(rest.substr(colon1 + 1, colon2 - colon1 - 1));
  for (auto part : split(rest.substr(colon2 + 1), '|')) {
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    expectation.parts.push_back(part);
  }
  return expectation;
}

// Runs every check that needs no process: load, workspace, targets, graph.
void loadAll(const fs::path& file) {
  PluginRegistry plugins;
  registerBuiltinPlugins(plugins);
  Pipeline pipeline = loadPipeline(file, plugins);
  Workspace workspace = openWorkspace(pipeline, std::nullopt);
  std::vector<TargetSpec> targets = resolveTargets(pipeline, workspace);
  expandTargets(targets, workspace, plugins);
}

std::vector<fs::path> badFiles() {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::directory_iterator(fs::path(KILN_TEST_DATA) / "bad")) {
    if (entry.path().extension() == ".yaml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("bad pipelines fail with location and fix", "[config]") {
  std::vector<fs::path> files = badFiles();
  REQUIRE(files.size() >= 15);
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      Expectation expected = readExpectation(file);
      bool threw = false;
      try {
        loadAll(file);
      } catch (const ConfigError& error) {
        threw = true;
        std::string text = error.render();
        INFO(text);
        CHECK(error.where().file == file.string());
        CHECK(error.where().line == expected.line);
        CHECK(error.where().column == expected.column);
        for (const auto& part : expected.parts) {
          CHECK_THAT(text, Catch::Contains(part));
        }
        CHECK_FALSE(error.hint().empty());
      }
      CHECK(threw);
    }
  }
}
