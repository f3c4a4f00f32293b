// Image config and manifest assembly, and canonical JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/oci/image.h"
#include "util/error.h"

using namespace kiln::oci;
using nlohmann::json;

namespace {

ImageLayer someLayer(const std::string& seed,
                     std::string_view mediaType = media::kOciLayerGzip) {
  ImageLayer layer;
  layer.descriptor.mediaType = std::string(mediaType);
  layer.descriptor.digest = kiln::sha256("blob " + seed);
  layer.descriptor.size = 100;
  layer.diffId = kiln::sha256("tar " + seed);
  layer.createdBy = "kiln layer " + seed;
  return layer;
}

// A base image in Docker's format, as a registry would serve it.
BaseImage dockerBase(const std::string& architecture = "amd64") {
  json config = {{"architecture", architecture},
                 {"os", "linux"},
                 {"container", "3f1c0d"},
                 {"docker_version", "20.10.7"},
                 {"config",
                  {{"Env", {"PATH=/usr/bin:/bin", "FOO=1"}},
                   {"Cmd", {"node"}},
                   {"ExposedPorts", {{"8080/tcp", json::object()}}},
                   {"Labels", {{"maintainer", "base"}}},
                   {"Volumes", nullptr}}},
                 {"rootfs",
                  {{"type", "layers"},
                   {"diff_ids",
                    {digestString(kiln::sha256("tar b1")),
                     digestString(kiln::sha256("tar b2"))}}}},
                 {"history", {{{"created", "2024-01-01T00:00:00Z"}}}}};
  BaseImage base;
  base.config = config.dump(2);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", media::kDockerManifest},
                   {"config",
                    {{"mediaType", media::kDockerConfig},
                     {"digest", digestString(kiln::sha256(base.config))},
                     {"size", base.config.size()}}},
                   {"layers",
                    {{{"mediaType", media::kDockerLayerGzip},
                      {"digest", digestString(kiln::sha256("blob b1"))},
                      {"size", 10}},
                     {{"mediaType", media::kDockerForeignLayerGzip},
                      {"digest", digestString(kiln::sha256("blob b2"))},
                      {"size", 20},
                      {"urls", {"https://example.invalid/b2"}}}}}};
  base.manifest = manifest.dump(3);
  base.name = "docker.io/library/node:20";
  return base;
}

}  // namespace

TEST_CASE("canonical JSON sorts keys without whitespace", "[oci][json]") {
  json first = json::object();
  first["b"] = 1;
  first["a"] = {{"d", 2}, {"c", "日本"}};
  json second = json::object();
  second["a"] = {{"c", "日本"}, {"d", 2}};
  second["b"] = 1;

  CHECK(canonicalJson(first) == R"({"a":{"c":"日本","d":2},"b":1})");
  CHECK(canonicalJson(first) == canonicalJson(second));
  CHECK(canonicalJson(json::parse("{ \"z\" : [ 1 , 2 ] ,\n \"y\" : null }")) ==
        R"({"y":null,"z":[1,2]})");
}

TEST_CASE("image from scratch has one layer", "[oci][image]") {
  ImageSpec spec;
  spec.layers = {someLayer("one")};
  spec.config.cmd = std::vector<std::string>{"/app/server"};
  AssembledImage image = assembleImage(spec);

  json config = json::parse(image.config);
  CHECK(config["architecture"] == "amd64");
  CHECK(config["os"] == "linux");
  CHECK(config["created"] == "1970-01-01T00:00:00Z");
  CHECK(config["rootfs"]["type"] == "layers");
  CHECK(config["rootfs"]["diff_ids"] ==
        json::array({digestString(kiln::sha256("tar one"))}));
  REQUIRE(config["history"].size() == 1);
  CHECK(config["history"][0]["created"] == "1970-01-01T00:00:00Z");
  CHECK(config["history"][0]["created_by"] == "kiln layer one");
  CHECK(config["config"]["Cmd"] == json::array({"/app/server"}));

  json manifest = json::parse(image.manifest);
  CHECK(manifest["schemaVersion"] == 2);
  CHECK(manifest["mediaType"] == media::kOciManifest);
  CHECK(manifest["config"]["mediaType"] == media::kOciConfig);
  CHECK(manifest["config"]["digest"] ==
        digestString(kiln::sha256(image.config)));
  CHECK(manifest["config"]["size"] == image.config.size());
  REQUIRE(manifest["layers"].size() == 1);
  CHECK(manifest["layers"][0]["mediaType"] == media::kOciLayerGzip);
  CHECK_FALSE(manifest.contains("annotations"));
  CHECK(image.manifestDescriptor.digest == kiln::sha256(image.manifest));
  CHECK(image.manifest == canonicalJson(manifest));
  CHECK(image.config == canonicalJson(config));
}

TEST_CASE("image assembly is deterministic", "[oci][image]") {
  ImageSpec spec;
  spec.base = dockerBase();
  spec.layers = {someLayer("one"), someLayer("two", media::kOciLayerZstd)};
  spec.config.env = {"NODE_ENV=production"};
  spec.created = 1700000000;
  AssembledImage first = assembleImage(spec);
  AssembledImage second = assembleImage(spec);
  CHECK(first.manifest == second.manifest);
  CHECK(first.config == second.config);

  spec.created = 1700000001;
  CHECK(assembleImage(spec).manifestDescriptor.digest !=
        first.manifestDescriptor.digest);
  CHECK(json::parse(first.config)["created"] == "2023-11-14T22:13:20Z");
}

TEST_CASE("image merges the base config", "[oci][image]") {
  ImageSpec spec;
  spec.base = dockerBase();
  spec.layers = {someLayer("app")};
  spec.config.env = {"FOO=2", "NODE_ENV=production"};
  spec.config.entrypoint = std::vector<std::string>{"node", "/app/main.js"};
  spec.config.workingDir = "/app";
  spec.config.user = "10001:10001";
  spec.config.exposedPorts = {"3000", "53/udp"};
  spec.config.labels = {{"org.opencontainers.image.title", "auth"}};
  spec.config.stopSignal = "SIGTERM";
  AssembledImage image = assembleImage(spec);
  json config = json::parse(image.config);
  json runtime = config["config"];

  CHECK(runtime["Env"] ==
        json::array({"PATH=/usr/bin:/bin", "FOO=2", "NODE_ENV=production"}));
  CHECK(runtime["Entrypoint"] == json::array({"node", "/app/main.js"}));
  CHECK_FALSE(runtime.contains("Cmd"));  // cleared by the new entrypoint
  CHECK(runtime["WorkingDir"] == "/app");
  CHECK(runtime["User"] == "10001:10001");
  CHECK(runtime["StopSignal"] == "SIGTERM");
  CHECK(runtime["ExposedPorts"].contains("8080/tcp"));
  CHECK(runtime["ExposedPorts"].contains("3000/tcp"));
  CHECK(runtime["ExposedPorts"].contains("53/udp"));
  CHECK(runtime["Labels"]["maintainer"] == "base");
  CHECK(runtime["Labels"]["org.opencontainers.image.title"] == "auth");
  CHECK_FALSE(runtime.contains("Volumes"));  // null in the base
  CHECK_FALSE(config.contains("container"));
  CHECK_FALSE(config.contains("docker_version"));
  CHECK(config["rootfs"]["diff_ids"].size() == 3);
  CHECK(config["rootfs"]["diff_ids"][2] ==
        digestString(kiln::sha256("tar app")));
  CHECK(config["history"].size() == 2);
}

TEST_CASE("Docker base layer media types become OCI", "[oci][image]") {
  ImageSpec spec;
  spec.base = dockerBase();
  spec.layers = {someLayer("app", media::kOciLayerZstd)};
  AssembledImage image = assembleImage(spec);
  json manifest = json::parse(image.manifest);

  REQUIRE(manifest["layers"].size() == 3);
  CHECK(manifest["layers"][0]["mediaType"] == media::kOciLayerGzip);
  CHECK(manifest["layers"][0]["digest"] ==
        digestString(kiln::sha256("blob b1")));
  CHECK(manifest["layers"][1]["mediaType"] == media::kOciNondistributableGzip);
  CHECK(manifest["layers"][1]["urls"] ==
        json::array({"https://example.invalid/b2"}));
  CHECK(manifest["layers"][2]["mediaType"] == media::kOciLayerZstd);
  CHECK(manifest["annotations"]["org.opencontainers.image.base.name"] ==
        "docker.io/library/node:20");
  CHECK(manifest["annotations"]["org.opencontainers.image.base.digest"] ==
        digestString(kiln::sha256(spec.base->manifest)));
}

TEST_CASE("image rejects bad bases and settings", "[oci][image]") {
  ImageSpec arm;
  arm.base = dockerBase("arm64");
  CHECK_THROWS_AS(assembleImage(arm), kiln::UsageError);

  ImageSpec tampered;
  tampered.base = dockerBase();
  tampered.base->config += " ";
  CHECK_THROWS_AS(assembleImage(tampered), std::runtime_error);

  ImageSpec port;
  port.config.exposedPorts = {"70000"};
  CHECK_THROWS_AS(assembleImage(port), kiln::UsageError);

  ImageSpec env;
  env.config.env = {"NOVALUE"};
  CHECK_THROWS_AS(assembleImage(env), kiln::UsageError);
}
