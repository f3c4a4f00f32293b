#pragma once

#include "core/plugin.h"

namespace kiln {

/// The staging build of a mobile app. Android: checks the `staging` product
/// flavor and its GATEWAY_URL, runs `./gradlew assembleStagingRelease` and
/// collects the APK. iOS: checks the Staging configuration's STAGING
/// compilation condition and its use in Swift, runs `xcodebuild
/// -configuration Staging`. Without the toolchain (no Android SDK, no
/// xcodebuild) the step is skipped with the reason.
class MobilePlugin : public Plugin {
 public:
  std::string name() const override { return "mobile"; }
  int version() const override { return 1; }
  std::string summary() const override;
  std::vector<OptionSpec> options() const override;
  std::vector<Step> expand(const ExpandContext& context) const override;
};

/// The emulator's address of the host's staging gateway.
extern const char* const kDefaultGatewayUrl;

/// Returns the reason an Android build cannot run here, or "" when it can.
/// An SDK is a directory with platforms/ or build-tools/, named by
/// ANDROID_HOME, ANDROID_SDK_ROOT or `sdk.dir` in local.properties, and
/// Gradle also needs JAVA_HOME or java on PATH.
std::string androidSkipReason(const std::filesystem::path& projectDir);

}  // namespace kiln
