#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/session.h"
#include "core/base_images.h"
#include "core/scheduler.h"

namespace kiln {

/// Where a build's images go: DIR/layout (an OCI image layout),
/// DIR/kiln-images.lock.json, DIR/compose.override.yaml and the archives.
struct ImageOutputOptions {
  std::filesystem::path dir;   // empty: the workspace's .kiln/images
  bool ociArchive = false;     // DIR/archives/NAME.oci.tar
  bool dockerArchive = false;  // DIR/archives/NAME.docker.tar
};

/// The output directory for images: `options.dir`, else STATE_DIR/images.
std::filesystem::path imageOutputDir(const Session& session,
                                     const ImageOutputOptions& options);

/// The base image pins and store of a session: kiln-bases.lock.json beside
/// the pipeline file, blobs in the cache directory.
std::unique_ptr<BaseImages> openBaseImages(const Session& session);

/// After a build: writes the images lock file (target, image reference,
/// digest, size) and a Compose override that pins each service's image by
/// digest, and the requested archives, for every image step that
/// succeeded. `registryPrefix` replaces "kiln/" in references after a push.
/// Returns the files written.
std::vector<std::filesystem::path> writeImageFiles(
    const Session& session, const std::vector<bool>& selected,
    const std::vector<StepOutcome>& outcomes,
    const ImageOutputOptions& options);

/// `kiln push REGISTRY/NAMESPACE`: pushes every image of the output layout
/// as REGISTRY/NAMESPACE/NAME:TAG, prints name@sha256:... per image and
/// rewrites the lock file and Compose override with those references.
int runPush(const Session& session, const std::string& destination,
            const ImageOutputOptions& options);

/// `kiln bases update`: resolves every pinned base image tag again.
int runBasesUpdate(const Session& session);

}  // namespace kiln
