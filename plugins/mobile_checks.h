#pragma once

// Checks that a mobile project has the staging configuration the mobile
// plugin builds. Each throws UsageError naming the file and the missing
// line.

#include <filesystem>
#include <string>

namespace kiln {

/// Checks an Android module's Gradle build file (build.gradle.kts or
/// build.gradle), comments ignored. Its productFlavors block must contain a
/// flavor named `flavor`, written as `create("staging") {`,
/// `register("staging") {` or Groovy's `staging {`. That flavor's block
/// must contain a String `buildConfigField` named GATEWAY_URL whose value
/// contains exactly `gatewayUrl`.
void checkAndroidStagingFlavor(const std::filesystem::path& buildFile,
                               const std::string& flavor,
                               const std::string& gatewayUrl);

/// Checks an Xcode project. project.pbxproj must have a build configuration
/// named `configuration` whose build settings, or whose base .xcconfig
/// file, set SWIFT_ACTIVE_COMPILATION_CONDITIONS to a list containing
/// STAGING. No configuration of that name may set the list without STAGING
/// or $(inherited). Some .swift file under `sourceRoot` must contain
/// `#if STAGING`.
void checkIosStagingCondition(const std::filesystem::path& projectFile,
                              const std::string& configuration,
                              const std::filesystem::path& sourceRoot);

/// Removes // and /* */ comments outside double-quoted strings.
std::string stripCStyleComments(const std::string& text);

/// The text between the braces of the first block that `opening` (a
/// regular expression that matches up to the '{') starts. Sets `*found` to
/// the match position, or std::string::npos when there is no such block.
std::string blockAfter(const std::string& text, const std::string& opening,
                       std::size_t* found);

}  // namespace kiln
