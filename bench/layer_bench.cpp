// Writes one canonical layer from a directory with kiln's layer writer, for
// bench/layer_vs_tar.sh to time against tar and gzip or zstd.
//
// Usage: layer_bench [--compression gzip|zstd] [--mtime SECONDS]
//                    [--list-first] DIR OUTPUT
//
// By default the layer is streamed with writeDirectoryLayer. --list-first
// lists the folder with scanDirectory and then calls writeLayer, the path
// for entries that do not come from one folder. Prints the layer's digest,
// diff ID, sizes and the time taken.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core/oci/layer.h"
#include "util/strings.h"

namespace {

long long milliseconds(std::chrono::steady_clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration)
      .count();
}

int usage() {
  std::cerr << "usage: layer_bench [--compression gzip|zstd] "
               "[--mtime SECONDS] [--list-first] DIR OUTPUT\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  kiln::oci::LayerOptions options;
  bool listFirst = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--compression" && i + 1 < argc) {
      std::string value = argv[++i];
      if (value == "gzip") {
        options.compression = kiln::oci::Compression::gzip;
      } else if (value == "zstd") {
        options.compression = kiln::oci::Compression::zstd;
      } else {
        return usage();
      }
    } else if (arg == "--mtime" && i + 1 < argc) {
      options.mtime = std::strtoll(argv[++i], nullptr, 10);
    } else if (arg == "--list-first") {
      listFirst = true;
    } else if (kiln::startsWith(arg, "-")) {
      return usage();
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) {
    return usage();
  }
  try {
    auto start = std::chrono::steady_clock::now();
    kiln::oci::LayerResult layer;
    if (listFirst) {
      auto entries = kiln::oci::scanDirectory(positional[0], "");
      layer = kiln::oci::writeLayer(std::move(entries), options, positional[1]);
    } else {
      layer = kiln::oci::writeDirectoryLayer(positional[0], "", options,
                                             positional[1]);
    }
    auto written = std::chrono::steady_clock::now();
    std::cout << "digest " << kiln::oci::digestString(layer.digest) << "\n"
              << "diff_id " << kiln::oci::digestString(layer.diffId) << "\n"
              << "size " << layer.size << "\n"
              << "uncompressed " << layer.uncompressedSize << "\n"
              << "ms " << milliseconds(written - start) << "\n";
  } catch (const std::exception& error) {
    std::cerr << "layer_bench: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
