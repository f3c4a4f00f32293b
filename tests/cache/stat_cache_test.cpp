#include <sys/stat.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "core/stat_cache.h"
#include "util/atomic_file.h"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

fs::path scratchDir() {
  fs::path dir = fs::temp_directory_path() /
                 ("kiln-stat-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void setMtime(const fs::path& path, time_t seconds) {
  struct utimbuf times {
    seconds, seconds
  };
  ::utime(path.c_str(), &times);
}

}  // namespace

TEST_CASE("stat cache reuses digests of old files", "[statcache]") {
  fs::path dir = scratchDir();
  fs::path file = dir / "old.txt";
  writeFileAtomic(file, "content");
  setMtime(file, ::time(nullptr) - 3600);
  struct stat info;
  REQUIRE(::lstat(file.c_str(), &info) == 0);
  // ctime cannot be set back, so this entry is racy until 2 s pass; wait.
  ::sleep(3);
  REQUIRE(::lstat(file.c_str(), &info) == 0);
  {
    StatCache cache(dir / "cache");
    CHECK(cache.digest(file.string(), info) == sha256("content"));
    cache.save();
  }
  StatCache reloaded(dir / "cache");
  auto known = reloaded.lookup(file.string(), info);
  REQUIRE(known.has_value());
  CHECK(*known == sha256("content"));
  fs::remove_all(dir);
}

TEST_CASE("stat cache does not keep racy entries", "[statcache]") {
  fs::path dir = scratchDir();
  fs::path file = dir / "new.txt";
  writeFileAtomic(file, "fresh");
  struct stat info;
  REQUIRE(::lstat(file.c_str(), &info) == 0);
  {
    StatCache cache(dir / "cache");
    CHECK(cache.digest(file.string(), info) == sha256("fresh"));
    CHECK(cache.lookup(file.string(), info).has_value());
    cache.save();
  }
  StatCache reloaded(dir / "cache");
  CHECK_FALSE(reloaded.lookup(file.string(), info).has_value());
  fs::remove_all(dir);
}

TEST_CASE("stat cache misses on a changed stamp", "[statcache]") {
  fs::path dir = scratchDir();
  fs::path file = dir / "f.txt";
  writeFileAtomic(file, "one");
  struct stat before;
  REQUIRE(::lstat(file.c_str(), &before) == 0);
  StatCache cache(dir / "cache");
  cache.digest(file.string(), before);
  writeFileAtomic(file, "two");
  struct stat after;
  REQUIRE(::lstat(file.c_str(), &after) == 0);
  CHECK_FALSE(cache.lookup(file.string(), after).has_value());
  CHECK(cache.digest(file.string(), after) == sha256("two"));
  fs::remove_all(dir);
}
