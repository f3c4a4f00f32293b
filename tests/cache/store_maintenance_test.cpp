#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>

#include "cache/local_store.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

// A store in a fresh temporary directory, removed afterwards.
struct TemporaryStore {
  fs::path dir;
  LocalStore store;
  TemporaryStore()
      : dir(fs::temp_directory_path() /
            ("kiln-store-test-" + std::to_string(::getpid()))),
        store(dir) {}
  ~TemporaryStore() { fs::remove_all(dir); }
};

std::string layerEntry(const Digest& blob) {
  return nlohmann::json{{"version", 1},
                        {"digest", blob.hex()},
                        {"diff_id", sha256("uncompressed").hex()},
                        {"size", 5},
                        {"uncompressed_size", 12},
                        {"media_type",
                         "application/vnd.oci.image.layer.v1.tar+gzip"}}
      .dump();
}

}  // namespace

TEST_CASE("layer entries pass verify and survive gc", "[store]") {
  TemporaryStore temporary;
  LocalStore& store = temporary.store;
  Digest layer = store.putBytes("layer");
  std::string key = sha256("layer key").hex();
  store.putAction(key, layerEntry(layer));

  VerifyReport report = store.verify();
  INFO((report.problems.empty() ? "" : report.problems.front()));
  CHECK(report.problems.empty());

  GcReport young = store.gc(std::nullopt, std::chrono::hours(24 * 30));
  CHECK(young.entriesRemoved == 0);
  CHECK(young.blobsRemoved == 0);
  CHECK(store.getAction(key).has_value());
  CHECK(store.hasBlob(layer));

  GcReport full = store.gc(0, std::nullopt);
  CHECK(full.entriesRemoved == 1);
  CHECK(full.blobsRemoved == 1);
  CHECK_FALSE(store.hasBlob(layer));
}

TEST_CASE("malformed layer entry is a problem", "[store]") {
  TemporaryStore temporary;
  temporary.store.putAction(sha256("bad").hex(), "{\"diff_id\": 3}");
  VerifyReport report = temporary.store.verify();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems.front().find("unreadable layer entry") !=
        std::string::npos);
}
