#include "cli/session.h"

#include "core/pipeline_loader.h"
#include "core/targets.h"

namespace kiln {

Session loadSession(const GlobalOptions& options,
                    const PluginRegistry& plugins) {
  Session session;
  session.pipeline = loadPipeline(options.pipeline, plugins);
  session.workspace = openWorkspace(session.pipeline, options.workspace);
  session.targets = resolveTargets(session.pipeline, session.workspace);
  session.graph = expandTargets(session.targets, session.workspace, plugins);
  return session;
}

}  // namespace kiln
