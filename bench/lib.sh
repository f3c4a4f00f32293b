# Shared by the benchmarks: the federation example prepared as a workspace
# with a kiln pipeline and a turbo configuration, and a ratio helper.
# Callers set: kiln (binary), repo (kiln's source tree), work (scratch dir),
# turbo_version.

ratio() {  # ratio JSON NAME_A NAME_B: prints mean(A)/mean(B)
  node -e '
    const r = require(process.argv[1]).results;
    const mean = (n) => r.find((x) => x.command === n).mean;
    console.log((mean(process.argv[2]) / mean(process.argv[3])).toFixed(2));
  ' "$1" "$2" "$3"
}

# The federation example as one git repository, installed once, with a
# kiln pipeline and a turbo configuration describing the same builds.
prepare_federation() {
  local fed="$work/fed"
  if [[ -d "$fed/node_modules" ]]; then
    return
  fi
  rm -rf "$fed"
  cp -r "$repo/examples/ngwenya/ngwenya-federation" "$fed"
  rm -rf "$fed/rust"
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const pkg = JSON.parse(fs.readFileSync(file));
    pkg.packageManager = "npm@" + process.argv[2];
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
  ' "$fed/package.json" "$(npm --version)"
  cat >"$fed/turbo.json" <<'JSON'
{
  "$schema": "https://turborepo.com/schema.json",
  "tasks": {
    "build": { "dependsOn": ["^build"], "outputs": ["dist/**"] }
  }
}
JSON
  cat >"$fed/kiln.yaml" <<'YAML'
version: 1
repos:
  fed: { path: . }
targets:
  - name: install
    plugin: command
    run: "npm ci --no-audit --no-fund"
    inputs: [package.json, package-lock.json, "apps/*/package.json",
             "libs/*/package.json"]
    outputs: [node_modules]
  - name: shared
    plugin: command
    dir: libs/shared
    deps: [install]
    run: "npm run build"
    inputs: ["src/**", package.json, tsconfig.json]
    outputs: [dist]
  - discover: { repo: fed, dir: "apps/*", plugin: command, deps: [shared],
                run: "npm run build",
                inputs: ["src/**", package.json, tsconfig.json,
                         nest-cli.json],
                outputs: [dist] }
YAML
  printf 'node_modules\ndist\n.turbo\n.kiln\n' >>"$fed/.gitignore"
  (cd "$fed" && git init -q -b main && git add -A &&
    git -c user.name=bench -c user.email=bench@kiln.invalid \
      commit -q -m "federation example")
  mkdir -p "$work/turbo"
  (cd "$work/turbo" && npm init -y >/dev/null &&
    npm install --no-audit --no-fund --silent "turbo@$turbo_version")
  echo "bench: building the federation example once with kiln"
  (cd "$fed" && "$kiln" build --output plain >/dev/null)
}

