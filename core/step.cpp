#include "core/step.h"

namespace kiln {

std::string logFileName(const std::string& stepId) {
  std::string name;
  for (char c : stepId) {
    name += (c == '/' ? '+' : c);
  }
  return name + ".log";
}

bool sameDefinition(const Step& a, const Step& b) {
  return a.id == b.id && a.kind == b.kind && a.repo == b.repo &&
         a.workingDir == b.workingDir && a.argv == b.argv &&
         a.content == b.content && a.fileMode == b.fileMode && a.env == b.env &&
         a.passEnv == b.passEnv && a.passEnvPlain == b.passEnvPlain &&
         a.inputs == b.inputs && a.outputs == b.outputs && a.deps == b.deps &&
         a.tools == b.tools && a.plugin == b.plugin &&
         a.pluginVersion == b.pluginVersion && a.cacheable == b.cacheable &&
         a.shared == b.shared &&
         (a.image == b.image || (a.image && b.image && *a.image == *b.image)) &&
         a.skipReason == b.skipReason;
}

}  // namespace kiln
