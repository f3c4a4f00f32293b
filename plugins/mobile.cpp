#include "plugins/mobile.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>

#include "plugins/mobile_checks.h"
#include "plugins/project_files.h"
#include "util/error.h"
#include "util/strings.h"

namespace kiln {

namespace fs = std::filesystem;

const char* const kDefaultGatewayUrl = "http://10.0.2.2:30000";

namespace {

const char* const kFlavor = "staging";
const char* const kConfiguration = "Staging";

bool isSdkDirectory(const fs::path& dir) {
  return isDirectory(dir / "platforms") || isDirectory(dir / "build-tools");
}

// The `sdk.dir` line of local.properties, or "".
std::string localSdkDir(const fs::path& projectDir) {
  std::optional<std::string> text =
      readProjectFile(projectDir / "local.properties");
  static const std::regex kLine(R"re((^|\n)\s*sdk\.dir\s*[=:]\s*([^\r\n]+))re");
  std::smatch match;
  if (!text || !std::regex_search(*text, match, kLine)) {
    return "";
  }
  return match[2].str();
}

std::string platformOf(const ExpandContext& context) {
  fs::path dir = context.targetDir();
  if (context.has("platform")) {
    std::string platform = context.string("platform");
    if (platform != "android" && platform != "ios") {
      throw context.optionError("platform",
                                "unknown platform '" + platform + "'",
                                "write 'platform: android' or "
                                "'platform: ios'");
    }
    return platform;
  }
  for (const char* file : {"settings.gradle.kts", "settings.gradle",
                           "build.gradle.kts", "build.gradle", "gradlew"}) {
    if (fs::exists(dir / file)) {
      return "android";
    }
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".xcodeproj") {
      return "ios";
    }
  }
  throw UsageError("cannot tell whether " + dir.string() +
                       " is an Android or an iOS project: it has neither "
                       "settings.gradle(.kts) nor an .xcodeproj",
                   "set 'platform: android' or 'platform: ios' on target '" +
                       context.target().name + "'");
}

void checkIdentifier(const ExpandContext& context, const std::string& option,
                     const std::string& value) {
  bool valid =
      !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
               c == '-';
      });
  if (!valid) {
    throw context.optionError(option, "invalid " + option + " '" + value + "'",
                              "use letters, digits, '_' and '-' only");
  }
}

Step androidStep(const ExpandContext& context) {
  fs::path projectDir = context.targetDir();
  const std::string& dir = context.target().dir;
  std::string module = context.string("module", "app");
  checkIdentifier(context, "module", module);
  std::string gatewayUrl = context.string("gateway_url", kDefaultGatewayUrl);

  fs::path buildFile = projectDir / module / "build.gradle.kts";
  if (!fs::exists(buildFile) &&
      fs::exists(projectDir / module / "build.gradle")) {
    buildFile = projectDir / module / "build.gradle";
  }
  checkAndroidStagingFlavor(buildFile, kFlavor, gatewayUrl);

  std::string apkDir =
      module + "/build/outputs/apk/" + std::string(kFlavor) + "/release";
  std::string apk =
      "build/kiln/" + module + "-" + std::string(kFlavor) + "-release.apk";
  Step step = context.makeStep(context.target().name + ":build",
                               "assemble the staging APK");
  step.argv = {"/bin/sh", "-c",
               "./gradlew --no-daemon assembleStagingRelease && set -- " +
                   shellQuote(apkDir) +
                   "/*.apk && test -f \"$1\" && "
                   "mkdir -p build/kiln && cp \"$1\" " +
                   shellQuote(apk)};
  // The SDK and JDK locations are machine paths, so they are passed
  // through rather than declared (declared variables are part of the key).
  // Like every pass_env value, they are masked as secrets in the log.
  step.passEnvPlain.insert(
      step.passEnvPlain.end(),
      {"ANDROID_HOME", "ANDROID_SDK_ROOT", "JAVA_HOME", "GRADLE_USER_HOME"});
  step.tools = {"sh", "java"};
  for (const char* input :
       {"build.gradle.kts", "build.gradle", "settings.gradle.kts",
        "settings.gradle", "gradle.properties", "gradle/**", "gradlew"}) {
    step.inputs.push_back(joinRelative(dir, input));
  }
  for (const char* input :
       {"src/**", "build.gradle.kts", "build.gradle", "proguard-rules.pro"}) {
    step.inputs.push_back(joinRelative(dir, module + "/" + input));
  }
  step.outputs = {joinRelative(dir, apk)};
  step.skipReason = androidSkipReason(projectDir);
  return step;
}

Step iosStep(const ExpandContext& context) {
  fs::path projectDir = context.targetDir();
  const std::string& dir = context.target().dir;
  std::vector<std::string> projects;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(projectDir, error)) {
    if (entry.path().extension() == ".xcodeproj") {
      projects.push_back(entry.path().filename().string());
    }
  }
  std::sort(projects.begin(), projects.end());
  if (projects.size() != 1) {
    throw UsageError(
        projectDir.string() + (projects.empty() ? " has no .xcodeproj"
                                                : " has several .xcodeproj: " +
                                                      join(projects, ", ")),
        "point the target's 'dir' at the folder with the app's .xcodeproj");
  }
  std::string project = projects.front();
  checkIosStagingCondition(projectDir / project / "project.pbxproj",
                           kConfiguration, projectDir);

  std::string scheme =
      context.string("scheme", fs::path(project).stem().string());
  checkIdentifier(context, "scheme", scheme);
  Step step = context.makeStep(context.target().name + ":build",
                               "xcodebuild the Staging app");
  // NOTE: never run here (Linux has no xcodebuild); the flags follow
  // Xcode's documented command line for an unsigned simulator build.
  step.argv = {"xcodebuild",
               "-project",
               project,
               "-scheme",
               scheme,
               "-configuration",
               kConfiguration,
               "-sdk",
               "iphonesimulator",
               "-derivedDataPath",
               "build/DerivedData",
               "CODE_SIGNING_ALLOWED=NO",
               "build"};
  step.passEnvPlain.push_back("DEVELOPER_DIR");
  step.tools = {"xcodebuild"};
  step.inputs = {joinRelative(dir, "**"), "!" + joinRelative(dir, "build/**"),
                 "!" + joinRelative(dir, "**/xcuserdata/**"),
                 "!" + joinRelative(dir, "**/*.xcuserstate")};
  step.outputs = {joinRelative(dir, "build/DerivedData/Build/Products/" +
                                        std::string(kConfiguration) +
                                        "-iphonesimulator/" + scheme + ".app")};
  if (!foundOnPath("xcodebuild")) {
    step.skipReason =
        "xcodebuild not found on PATH: iOS builds need macOS with Xcode "
        "(install Xcode; set DEVELOPER_DIR to choose among several)";
  }
  return step;
}

}  // namespace

std::string androidSkipReason(const fs::path& projectDir) {
  std::string reason;
  bool found = false;
  for (const char* variable : {"ANDROID_HOME", "ANDROID_SDK_ROOT"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') {
      continue;
    }
    if (isSdkDirectory(value)) {
      found = true;
      break;
    }
    reason = std::string(variable) + "=" + value +
             " has no platforms/ or build-tools/, so it is not an Android "
             "SDK; set ANDROID_HOME to the SDK directory";
  }
  std::string local = localSdkDir(projectDir);
  if (!found && !local.empty() && isSdkDirectory(local)) {
    found = true;
  }
  if (!found) {
    return reason.empty() ? "Android SDK not found: set ANDROID_HOME (or "
                            "ANDROID_SDK_ROOT) to the SDK directory"
                          : reason;
  }
  const char* javaHome = std::getenv("JAVA_HOME");
  if ((javaHome == nullptr || *javaHome == '\0') && !foundOnPath("java")) {
    return "no JDK found: Gradle needs java on PATH or JAVA_HOME set to a "
           "JDK 17";
  }
  return "";
}

std::string MobilePlugin::summary() const {
  return "checks and builds the staging variant of an Android or iOS app "
         "(skipped without an Android SDK or Xcode)";
}

std::vector<OptionSpec> MobilePlugin::options() const {
  return {
      {"platform", OptionType::kString, false, "android or ios",
       "detected from settings.gradle(.kts) or an .xcodeproj"},
      {"gateway_url", OptionType::kString, false,
       "GATEWAY_URL that the Android staging flavor must set",
       kDefaultGatewayUrl},
      {"module", OptionType::kString, false, "Android application module",
       "app"},
      {"scheme", OptionType::kString, false, "Xcode scheme to build",
       "the project's name"},
  };
}

std::vector<Step> MobilePlugin::expand(const ExpandContext& context) const {
  if (platformOf(context) == "android") {
    return {androidStep(context)};
  }
  return {iosStep(context)};
}

}  // namespace kiln
