#pragma once

// The few parts of Cargo.toml and .cargo/config.toml that the rust plugin
// reads to decide what to declare.

#include <map>
#include <string>
#include <vector>

namespace kiln {

/// A [[bin]] table of Cargo.toml.
struct CargoBin {
  std::string name;
  std::string path;  // relative to the crate, empty when not given
};

/// The parts of one Cargo.toml that the rust plugin reads.
struct CargoManifest {
  bool hasPackage = false;
  std::string packageName;
  bool autobins = true;
  std::vector<CargoBin> bins;
  bool isWorkspace = false;
  /// Paths of `path = "..."` dependencies (normal and build), relative to
  /// the crate.
  std::vector<std::string> pathDependencies;
  /// Names of dependencies declared with `workspace = true`.
  std::vector<std::string> workspaceDependencies;
  /// [workspace.dependencies] entries with a path: name to path, relative
  /// to the workspace root.
  std::map<std::string, std::string> workspacePathDependencies;
};

/// Reads the tables and keys listed in CargoManifest from TOML text. Other
/// tables are skipped.
/// NOTE: a line-based reader, not a TOML parser: it handles the layouts
/// `cargo new` and `cargo add` write (tables, dotted dependency tables,
/// inline tables on one line, multi-line arrays) but not, for example,
/// multi-line strings or inline tables that span lines.
CargoManifest parseCargoManifest(const std::string& text);

/// The `target` key of the [build] table of a .cargo/config.toml, or "".
std::string cargoBuildTarget(const std::string& configText);

}  // namespace kiln
