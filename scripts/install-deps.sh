#!/usr/bin/env bash
# Installs the Debian 12 packages kiln needs to build and test, skipping
# those already present. Node 20, npm and a Rust toolchain are prerequisites
# that this script only checks.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config git
  libboost-dev libboost-filesystem-dev libgit2-dev libyaml-cpp-dev
  libfmt-dev libspdlog-dev libzstd-dev libcli11-dev nlohmann-json3-dev
  libssl-dev libarchive-dev libcurl4-openssl-dev catch2
  # tests and benchmarks: real servers and image tools
  zstd curl nginx docker-registry skopeo umoci podman runc hyperfine binutils
  apache2-utils python3 protobuf-compiler
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi

for tool in node npm cargo; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-deps: $tool not found; install Node 20 with npm and a" \
      "Rust toolchain first (see README.md)" >&2
    exit 1
  fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "install-deps: Node $(node --version) found, Node 20 or newer needed" >&2
  exit 1
fi
