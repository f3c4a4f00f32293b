#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln {

/// One layer of an image built by kiln: a file or directory of the
/// repository (usually another step's output) placed at a path in the
/// image.
struct ImageLayerSpec {
  /// The step that produces `source`; empty for a source file of the
  /// repository, which then is an input of the image step.
  std::string step;
  /// A file or directory relative to the repository root.
  std::string source;
  /// Where `source` goes in the image: the directory a directory's contents
  /// go into, or the path of a file.
  std::string destination;
  /// Numeric owner of the layer's entries.
  unsigned uid = 0;
  unsigned gid = 0;

  bool operator==(const ImageLayerSpec&) const = default;
};

/// An OCI image that an image step assembles on a base image.
struct ImageSpec {
  /// Name of the image in the output layout, also kiln/NAME:TAG in archives
  /// and the service name in the Compose override.
  std::string name;
  std::string tag = "latest";
  /// Compose service the image is for (default: `name`).
  std::string composeService;
  /// "scratch", "oci:DIR:NAME" (a local layout, DIR relative to the
  /// repository), or a registry reference; "http://" before a registry
  /// reference means that registry is reached over plain HTTP.
  std::string base = "scratch";
  std::vector<ImageLayerSpec> layers;
  std::vector<std::string> env;  // NAME=value
  std::vector<std::string> entrypoint;
  bool setEntrypoint = false;
  std::vector<std::string> cmd;
  bool setCmd = false;
  std::string workingDir;
  std::string user;  // "uid:gid"; empty keeps the base's
  std::vector<std::string> exposedPorts;
  std::map<std::string, std::string> labels;
  std::string stopSignal;
  std::string compression = "gzip";  // or "zstd"

  bool operator==(const ImageSpec&) const = default;
};

}  // namespace kiln
