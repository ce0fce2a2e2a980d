#!/usr/bin/env bash
# Installs Debian's docker.io (if missing) and starts dockerd without a bridge network (Workers run
# with NetworkMode none; no container ever gets a private-range address). Idempotent.
set -euo pipefail
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
if docker info >/dev/null 2>&1; then
  echo "provision-docker: engine already running ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi
log=${DOCKERD_LOG:-/tmp/dockerd.log}
nohup dockerd --bridge=none --iptables=false --ip-forward=false >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "provision-docker: engine up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
echo "provision-docker: dockerd did not come up; last log lines:" >&2
tail -20 "$log" >&2
exit 1
