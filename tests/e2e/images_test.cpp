// The images of the fixture's full build: one per service, on the bases of
// examples/bases, run with podman (runc, host network, loopback only).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/e2e/e2e_support.h"

using namespace kiln;
using namespace kiln::e2e;
namespace fs = std::filesystem;

namespace {

fs::path imagesDir() {
  return sharedWorkspace() / ".kiln/images";
}

nlohmann::json readJson(const fs::path& file) {
  return nlohmann::json::parse(test::readText(file));
}

nlohmann::json manifestOf(const std::string& name) {
  fs::path layout = imagesDir() / "layout";
  nlohmann::json index = readJson(layout / "index.json");
  for (const auto& entry : index["manifests"]) {
    if (entry["annotations"]["org.opencontainers.image.ref.name"] == name) {
      std::string digest = entry["digest"];
      return readJson(layout / "blobs/sha256" / digest.substr(7));
    }
  }
  FAIL("no image " << name << " in the layout");
  return {};
}

// podman with a configuration of its own, in a directory of this test.
class Podman {
 public:
  test::RunResult run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        "bash", std::string(KILN_SOURCE_DIR) + "/tests/support/podman.sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run(argv, dir_.path(),
                     {{"KILN_PODMAN_DIR", (dir_ / "podman").string()}});
  }

  // Loads image NAME of the build's layout and starts it; returns the id.
  std::string start(const std::string& name,
                    const std::vector<std::string>& env) {
    test::RunResult load = run({"load-oci", (imagesDir() / "layout").string(),
                                name, "kiln/" + name + ":staging"});
    INFO(load.output);
    REQUIRE(load.exitCode == 0);
    std::vector<std::string> args = {"run", "-d"};
    for (const auto& variable : env) {
      args.push_back("-e");
      args.push_back(variable);
    }
    args.push_back("kiln/" + name + ":staging");
    test::RunResult started = run(args);
    INFO(started.output);
    REQUIRE(started.exitCode == 0);
    std::string id = started.output.substr(0, 64);
    containers_.push_back(id);
    return id;
  }

  ~Podman() {
    for (const auto& id : containers_) {
      run({"rm", "-f", "-t", "0", id});
    }
  }

 private:
  test::TempDir dir_;
  std::vector<std::string> containers_;
};

// Polls GET PATH on 127.0.0.1 until it returns 200, for up to 30 s.
HttpResponse getWhenUp(int port, const std::string& path,
                       const std::map<std::string, std::string>& headers = {}) {
  HttpResponse response;
  for (int i = 0; i < 150; ++i) {
    response = httpGet(port, path, headers);
    if (response.status == 200) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return response;
}

}  // namespace

TEST_CASE("every service has a pinned image", "[e2e][images]") {
  nlohmann::json lock = readJson(imagesDir() / "kiln-images.lock.json");
  std::map<std::string, std::string> images;
  for (const auto& image : lock["images"]) {
    images[image["name"]] = image["digest"];
    CHECK(image["image"] ==
          "kiln/" + image["name"].get<std::string>() + ":staging");
  }
  CHECK(images.size() == 19 + 4 + 3);
  CHECK(images.count("gateway") == 1);
  CHECK(images.count("auth") == 1);
  CHECK(images.count("front") == 1);
  CHECK(images.count("support") == 1);
  std::string compose = test::readText(imagesDir() / "compose.override.yaml");
  for (const auto& [name, digest] : images) {
    CHECK_THAT(compose, Catch::Contains("  " + name + ":\n    image: \"kiln/" +
                                        name + ":staging@" + digest + "\""));
  }
}

TEST_CASE("nestjs images share node_modules layer", "[e2e][images]") {
  nlohmann::json lock = readJson(imagesDir() / "kiln-images.lock.json");
  std::set<std::string> nodeModules;
  std::size_t services = 0;
  for (const auto& entry :
       fs::directory_iterator(sharedWorkspace() / "ngwenya-federation/apps")) {
    std::string name = entry.path().filename().string();
    nlohmann::json manifest = manifestOf(name);
    // The node20 base's layers come first, then node_modules, package.json
    // and dist/.
    REQUIRE(manifest["layers"].size() >= 3);
    std::size_t index = manifest["layers"].size() - 3;
    nodeModules.insert(manifest["layers"][index]["digest"].get<std::string>());
    ++services;
  }
  CHECK(services == 19);
  CHECK(nodeModules.size() == 1);
  std::string digest = *nodeModules.begin();
  CHECK(fs::exists(imagesDir() / "layout/blobs/sha256" / digest.substr(7)));
}

TEST_CASE("service images answer health on loopback", "[e2e][images]") {
  Podman podman;
  int gateway = freePort();
  int auth = freePort();
  int front = freePort();
  podman.start("gateway",
               {"PORT=" + std::to_string(gateway), "HOST=127.0.0.1"});
  podman.start("auth", {"PORT=" + std::to_string(auth), "HOST=127.0.0.1"});
  podman.start("front", {"PORT=" + std::to_string(front), "HOST=127.0.0.1"});
  for (auto [name, port] : std::vector<std::pair<std::string, int>>{
           {"gateway", gateway}, {"auth", auth}, {"front", front}}) {
    HttpResponse response = getWhenUp(port, "/health");
    INFO(name << ": " << response.error);
    CHECK(response.status == 200);
    CHECK_THAT(response.body, Catch::Contains("\"status\":\"ok\""));
    CHECK_THAT(response.body, Catch::Contains("\"service\":\"" + name + "\""));
  }
}

TEST_CASE("astro image serves gzip and cache headers", "[e2e][images]") {
  Podman podman;
  podman.start("dev", {});
  HttpResponse health = getWhenUp(8080, "/health");
  INFO(health.error);
  REQUIRE(health.status == 200);

  HttpResponse html = httpGet(8080, "/", {{"Accept-Encoding", "gzip"}});
  CHECK(html.status == 200);
  CHECK(html.headers["content-encoding"] == "gzip");
  CHECK_THAT(html.headers["cache-control"], Catch::Contains("no-cache"));

  std::string css;
  for (const auto& entry :
       fs::directory_iterator(sharedWorkspace() / "ngwenya-dev/dist/_astro")) {
    if (entry.path().extension() == ".css") {
      css = "/_astro/" + entry.path().filename().string();
    }
  }
  REQUIRE_FALSE(css.empty());
  HttpResponse asset = httpGet(8080, css, {{"Accept-Encoding", "gzip"}});
  CHECK(asset.status == 200);
  CHECK(asset.headers["content-encoding"] == "gzip");
  CHECK_THAT(asset.headers["cache-control"], Catch::Contains("immutable"));
  CHECK_THAT(asset.headers["cache-control"],
             Catch::Contains("max-age=31536000"));
}
