// Expansion of the mobile plugin: staging checks and skipped toolchains.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "plugins/mobile.h"
#include "tests/plugins/plugin_fixture.h"
#include "util/error.h"

using namespace kiln;
using namespace kiln::test;

namespace {

const char* kGradleKts = R"(android {
    flavorDimensions += "env"
    productFlavors {
        create("staging") {
            dimension = "env"
            // The emulator reaches the host at 10.0.2.2.
            buildConfigField("String", "GATEWAY_URL", "\"http://10.0.2.2:30000\"")
        }
        create("production") {
            buildConfigField("String", "GATEWAY_URL", "\"https://gw.example\"")
        }
    }
}
)";

const char* kPbxproj = R"(// !$*UTF8*$!
{
	objects = {
/* Begin XCBuildConfiguration section */
		A1 /* Release */ = {
			isa = XCBuildConfiguration;
			buildSettings = {
				SWIFT_ACTIVE_COMPILATION_CONDITIONS = "";
			};
			name = Release;
		};
		A2 /* Staging */ = {
			isa = XCBuildConfiguration;
			baseConfigurationReference = F1 /* Staging.xcconfig */;
			buildSettings = {
				PRODUCT_NAME = App;
			};
			name = Staging;
		};
/* End XCBuildConfiguration section */
	};
}
)";

// Sets or unsets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = ::getenv(name);
    if (old != nullptr) {
      old_ = old;
      hadValue_ = true;
    }
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (hadValue_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool hadValue_ = false;
};

void writeAndroid(const PluginFixture& repo, const std::string& gradle) {
  repo.write("android/settings.gradle.kts", "include(\":app\")\n");
  repo.write("android/gradlew", "#!/bin/sh\nexit 1\n");
  repo.write("android/app/build.gradle.kts", gradle);
  repo.write("android/app/src/main/AndroidManifest.xml", "<manifest/>\n");
}

void writeIos(const PluginFixture& repo) {
  repo.write("ios/App.xcodeproj/project.pbxproj", kPbxproj);
  repo.write("ios/Config/Staging.xcconfig",
             "SWIFT_ACTIVE_COMPILATION_CONDITIONS = $(inherited) STAGING\n");
  repo.write("ios/App/Gateway.swift",
             "#if STAGING\nlet url = \"http://localhost:30000\"\n#else\n"
             "let url = \"https://gw.example\"\n#endif\n");
}

std::string usageErrorOf(const PluginFixture& repo, const TargetSpec& target) {
  try {
    repo.expand(target);
  } catch (const UsageError& error) {
    return std::string(error.what()) + "\n" + error.hint();
  }
  FAIL("expected a UsageError");
  return "";
}

}  // namespace

TEST_CASE("android skipped without SDK", "[plugins][mobile]") {
  ScopedEnv home("ANDROID_HOME", nullptr);
  ScopedEnv root("ANDROID_SDK_ROOT", nullptr);
  PluginFixture repo;
  writeAndroid(repo, kGradleKts);
  std::vector<Step> steps =
      repo.expand(repo.target("android", "mobile", "android"));
  REQUIRE(steps.size() == 1);
  const Step& step = steps.front();
  CHECK(step.id == "android:build");
  CHECK_THAT(step.skipReason, Catch::Contains("Android SDK not found"));
  CHECK_THAT(step.skipReason, Catch::Contains("ANDROID_HOME"));
  CHECK_THAT(step.argv.back(), Catch::Contains("assembleStagingRelease"));
  CHECK(step.outputs ==
        std::vector<std::string>{"android/build/kiln/app-staging-release.apk"});
  CHECK(contains(step.inputs, "android/app/src/**"));
  CHECK(contains(step.inputs, "android/app/build.gradle.kts"));
  CHECK(contains(step.passEnvPlain, "ANDROID_HOME"));
}

TEST_CASE("android runs with an SDK", "[plugins][mobile]") {
  PluginFixture repo;
  writeAndroid(repo, kGradleKts);
  repo.write("sdk/platforms/android-35/package.xml", "<x/>\n");
  ScopedEnv home("ANDROID_HOME", (repo.root() / "sdk").c_str());
  ScopedEnv java("JAVA_HOME", "/usr/lib/jvm/default");
  std::vector<Step> steps =
      repo.expand(repo.target("android", "mobile", "android"));
  CHECK(steps.front().skipReason.empty());

  ScopedEnv notSdk("ANDROID_HOME", repo.root().c_str());
  ScopedEnv root("ANDROID_SDK_ROOT", nullptr);
  steps = repo.expand(repo.target("android", "mobile", "android"));
  CHECK_THAT(steps.front().skipReason,
             Catch::Contains("is not an Android SDK"));
}

TEST_CASE("android missing staging flavor", "[plugins][mobile]") {
  PluginFixture repo;
  writeAndroid(repo, R"(android {
    productFlavors {
        // create("staging") { }
        create("production") { }
    }
})");
  std::string message =
      usageErrorOf(repo, repo.target("android", "mobile", "android"));
  CHECK_THAT(message, Catch::Contains("android/app/build.gradle.kts"));
  CHECK_THAT(message, Catch::Contains("'staging' product flavor"));
  CHECK_THAT(message,
             Catch::Contains("buildConfigField(\"String\", \"GATEWAY_URL\""));
}

TEST_CASE("android flavor without GATEWAY_URL", "[plugins][mobile]") {
  PluginFixture repo;
  writeAndroid(repo, R"(android {
    productFlavors {
        create("staging") { dimension = "env" }
        create("production") {
            buildConfigField("String", "GATEWAY_URL", "\"http://10.0.2.2:30000\"")
        }
    }
})");
  std::string message =
      usageErrorOf(repo, repo.target("android", "mobile", "android"));
  CHECK_THAT(message, Catch::Contains("has no GATEWAY_URL"));
}

TEST_CASE("android GATEWAY_URL must match", "[plugins][mobile]") {
  PluginFixture repo;
  writeAndroid(repo, kGradleKts);
  std::string message = usageErrorOf(
      repo, repo.target("android", "mobile", "android",
                        "{ gateway_url: 'http://10.0.2.2:4000' }"));
  CHECK_THAT(message, Catch::Contains("http://10.0.2.2:4000"));
  CHECK_THAT(message, Catch::Contains("gateway_url"));
}

TEST_CASE("android Groovy build file", "[plugins][mobile]") {
  PluginFixture repo;
  repo.write("android/settings.gradle", "include ':app'\n");
  repo.write("android/app/build.gradle", R"(android {
    productFlavors {
        staging {
            buildConfigField "String", "GATEWAY_URL", '"http://10.0.2.2:30000"'
        }
    }
})");
  std::vector<Step> steps =
      repo.expand(repo.target("android", "mobile", "android"));
  CHECK(steps.front().id == "android:build");
}

TEST_CASE("ios skipped without xcodebuild", "[plugins][mobile]") {
  PluginFixture repo;
  writeIos(repo);
  ScopedEnv path("PATH", "/usr/bin:/bin");
  std::vector<Step> steps = repo.expand(repo.target("ios", "mobile", "ios"));
  REQUIRE(steps.size() == 1);
  const Step& step = steps.front();
  CHECK_THAT(step.skipReason, Catch::Contains("xcodebuild not found"));
  CHECK(step.argv.front() == "xcodebuild");
  CHECK(contains(step.argv, "Staging"));
  CHECK(contains(step.argv, "App.xcodeproj"));
}

TEST_CASE("ios runs where xcodebuild exists", "[plugins][mobile]") {
  PluginFixture repo;
  writeIos(repo);
  repo.write("bin/xcodebuild", "#!/bin/sh\n");
  std::filesystem::permissions(repo.root() / "bin/xcodebuild",
                               std::filesystem::perms::owner_all);
  ScopedEnv path("PATH", (repo.root() / "bin").c_str());
  std::vector<Step> steps = repo.expand(repo.target("ios", "mobile", "ios"));
  CHECK(steps.front().skipReason.empty());
}

TEST_CASE("ios missing Staging configuration", "[plugins][mobile]") {
  PluginFixture repo;
  writeIos(repo);
  std::string text = kPbxproj;
  text.replace(text.find("name = Staging;"), 15, "name = Debug;");
  repo.write("ios/App.xcodeproj/project.pbxproj", text);
  std::string message = usageErrorOf(repo, repo.target("ios", "mobile", "ios"));
  CHECK_THAT(message, Catch::Contains("project.pbxproj"));
  CHECK_THAT(message, Catch::Contains("'Staging' build configuration"));
}

TEST_CASE("ios Staging without STAGING", "[plugins][mobile]") {
  PluginFixture repo;
  writeIos(repo);
  repo.write("ios/Config/Staging.xcconfig", "PRODUCT_NAME = App\n");
  std::string message = usageErrorOf(repo, repo.target("ios", "mobile", "ios"));
  CHECK_THAT(message, Catch::Contains("project.pbxproj"));
  CHECK_THAT(message,
             Catch::Contains("SWIFT_ACTIVE_COMPILATION_CONDITIONS = STAGING;"));

  repo.write("ios/Config/Staging.xcconfig",
             "SWIFT_ACTIVE_COMPILATION_CONDITIONS = RELEASE\n");
  message = usageErrorOf(repo, repo.target("ios", "mobile", "ios"));
  CHECK_THAT(message, Catch::Contains("Staging.xcconfig"));
  CHECK_THAT(message, Catch::Contains("without STAGING"));
}

TEST_CASE("ios Swift must use STAGING", "[plugins][mobile]") {
  PluginFixture repo;
  writeIos(repo);
  repo.write("ios/App/Gateway.swift", "let url = \"https://gw.example\"\n");
  std::string message = usageErrorOf(repo, repo.target("ios", "mobile", "ios"));
  CHECK_THAT(message, Catch::Contains("#if STAGING"));
}

TEST_CASE("mobile unknown platform", "[plugins][mobile]") {
  PluginFixture repo;
  repo.write("empty/README.md", "\n");
  CHECK_THROWS_AS(repo.expand(repo.target("app", "mobile", "empty")),
                  UsageError);
  CHECK_THROWS_AS(repo.expand(repo.target("app", "mobile", "empty",
                                          "{ platform: windows }")),
                  ConfigError);
}
