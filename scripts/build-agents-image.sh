#!/usr/bin/env bash
# Builds the Worker image WITH the agent CLIs (Claude Code, Codex, Gemini CLI) on top of the local
# base image. No registry is reachable from `docker build`, so the CLIs are npm-installed on the host
# into a cache folder (~/.cache/agentic-factory/agents-<key>) and COPY'd in.
# Cached twice: the install folder by the pinned versions, the image by tag (hash of docker/agents/*
# and of the base image's id, so a rebuilt base rebuilds this image too). The agents run on the
# base image's Node (docker/node.env).
#   usage: scripts/build-agents-image.sh            prints the image tag on its last line
#   env:   FORCE=1 rebuild; BASE=<base image tag>; FACTORY_AGENTS_CACHE=<cache root>
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=/dev/null
. "$here/docker/agents/versions.env"
base=${BASE:-agentic-factory/worker-base:bookworm}
log() { echo "build-agents-image: $*" >&2; }
docker image inspect "$base" >/dev/null 2>&1 || bash "$here/scripts/build-worker-image.sh" "$base" >&2
key=$({ cat "$here/docker/agents/versions.env" "$here/docker/agents/Dockerfile"; docker image inspect -f '{{.Id}}' "$base"; } | sha256sum | cut -c1-12)
tag="agentic-factory/worker-agents:$key"
install_key=$(sha256sum <"$here/docker/agents/versions.env" | cut -c1-12)
# The same content docker/worker.Dockerfile builds where a registry is reachable, under the same
# name, so the config default (worker.image) works whichever way the image was made.
user_tag=agentic-factory/worker:bookworm

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag present (cached)"
  docker tag "$tag" agentic-factory/worker-agents:latest
  docker tag "$tag" "$user_tag"
  echo "$tag"; exit 0
fi
cache=${FACTORY_AGENTS_CACHE:-$HOME/.cache/agentic-factory}/agents-$install_key
if [ "${FORCE:-0}" = 1 ] || [ ! -f "$cache/.complete" ]; then
  t0=$(date +%s)
  rm -rf "$cache"; mkdir -p "$cache/agents"
  log "npm install of the agent CLIs into $cache (≈ 1–3 min)"
  # Installed with the host's npm into a folder of its own (never the project's node_modules).
  (cd "$cache/agents" && echo '{"name":"factory-agents","private":true}' >package.json &&
    npm install --no-audit --no-fund --loglevel=error --omit=dev \
      "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" \
      "@anthropic-ai/claude-code-linux-x64@$CLAUDE_CODE_VERSION" \
      "@openai/codex@$CODEX_VERSION" \
      "@google/gemini-cli@$GEMINI_CLI_VERSION" >&2)
  a="$cache/agents"
  mkdir -p "$a/bin"
  # Claude Code: call its native binary directly (its launcher wants Node >= 22 anyway).
  claude_bin=$(find "$a/node_modules/@anthropic-ai" -path '*claude-code-linux-x64*' -type f -name 'claude*' -perm -u+x | head -1)
  [ -n "$claude_bin" ] || claude_bin="$a/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
  ln -sf "../${claude_bin#"$a/"}" "$a/bin/claude"
  ln -sf ../node_modules/.bin/codex "$a/bin/codex"
  ln -sf ../node_modules/.bin/gemini "$a/bin/gemini"
  touch "$cache/.complete"
  log "installed in $(( $(date +%s) - t0 )) s, $(du -sh "$cache" | cut -f1)"
fi

t0=$(date +%s)
cp "$here/docker/agents/Dockerfile" "$cache/Dockerfile"
docker build -q --build-arg "BASE=$base" \
  --label "factory.agents.claude-code=$CLAUDE_CODE_VERSION" \
  --label "factory.agents.codex=$CODEX_VERSION" \
  --label "factory.agents.gemini-cli=$GEMINI_CLI_VERSION" \
  -t "$tag" -t agentic-factory/worker-agents:latest -t "$user_tag" "$cache" >&2
log "built $tag in $(( $(date +%s) - t0 )) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$tag"
