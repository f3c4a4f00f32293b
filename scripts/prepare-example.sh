#!/usr/bin/env bash
# Copies the five example repositories (examples/ngwenya/ngwenya-*) into
# WORKDIR and makes each one a git repository with a single commit, so that
# kiln reads real git state. The commit uses a fixed author, committer and
# date, so every preparation gives the same commit ids.
#
#   scripts/prepare-example.sh [--force] WORKDIR
#
# Running it again on a prepared WORKDIR does nothing. --force deletes the
# five repositories in WORKDIR (build outputs and node_modules included) and
# prepares them anew. Build outputs that kiln's plugins write outside the
# usual ignored folders (.kiln-out/) are added to each repository's
# .git/info/exclude.
set -euo pipefail

usage() {
  echo "usage: $0 [--force] WORKDIR" >&2
  exit 2
}

force=0
workdir=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) usage ;;
    -*) echo "prepare-example: unknown option $arg" >&2; usage ;;
    *)
      [[ -z "$workdir" ]] || usage
      workdir="$arg"
      ;;
  esac
done
[[ -n "$workdir" ]] || usage

source_dir="$(cd "$(dirname "$0")/../examples/ngwenya" && pwd)"
repos=(ngwenya-federation ngwenya-front ngwenya-dev ngwenya-support
  ngwenya-mobile)
marker=".kiln-example-prepared"

export ASTRO_TELEMETRY_DISABLED=1
export GIT_AUTHOR_NAME="kiln example" GIT_AUTHOR_EMAIL="example@kiln.invalid"
export GIT_COMMITTER_NAME="kiln example"
export GIT_COMMITTER_EMAIL="example@kiln.invalid"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z"
export GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
# Keep the user's and the system's git configuration (hooks, templates,
# signing) out of the commits.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

mkdir -p "$workdir"
workdir="$(cd "$workdir" && pwd)"

if [[ -f "$workdir/$marker" && $force -eq 0 ]]; then
  echo "prepare-example: $workdir is already prepared (use --force to" \
    "start again)"
  exit 0
fi

for repo in "${repos[@]}"; do
  target="$workdir/$repo"
  if [[ -e "$target" && $force -eq 0 && ! -f "$workdir/$marker" ]]; then
    echo "prepare-example: $target exists but was not prepared by this" \
      "script; remove it or pass --force" >&2
    exit 1
  fi
done

rm -f "$workdir/$marker"
for repo in "${repos[@]}"; do
  target="$workdir/$repo"
  rm -rf "$target"
  # Copy the sources only: a developer's node_modules or build outputs in
  # examples/ must not reach the prepared repositories.
  mkdir -p "$target"
  tar -C "$source_dir/$repo" \
    --exclude=node_modules --exclude=dist --exclude=build \
    --exclude=.svelte-kit --exclude=.astro --exclude=target \
    --exclude=.kiln-out --exclude=.git \
    -cf - . | tar -C "$target" -xf -

  git -C "$target" init -q -b main
  git -C "$target" add -A
  # .env.staging is ignored by the repository's own .gitignore, as on the
  # real platform, but the demo needs it committed.
  if [[ -f "$target/.env.staging" ]]; then
    git -C "$target" add -f .env.staging
  fi
  git -C "$target" -c commit.gpgsign=false commit -q \
    -m "Import $repo from kiln's examples"
  echo ".kiln-out/" >>"$target/.git/info/exclude"
  echo "prepare-example: $target at $(git -C "$target" rev-parse --short HEAD)"
done
touch "$workdir/$marker"
