# The Worker image for machines that can reach a container registry. It is the same base that
# scripts/build-worker-image.sh builds from Debian packages where no registry is reachable (CI):
# Debian bookworm (slim), python3 + pytest, git, the official Node.js build (docker/node.env; not
# Debian's Node 18, which boots three times slower), procps, iproute2, user `worker` (uid 1000),
# /workspace owned by it. The sandbox runs it with a read-only root, so nothing here needs
# to be writable at run time except /workspace, /tmp and $HOME (tmpfs mounts supplied by the runner).
#
#   docker build -f docker/worker.Dockerfile -t agentic-factory/worker:bookworm \
#     --build-arg AGENT_CLIS="@anthropic-ai/claude-code@2.1.328 @openai/codex@0.169.0 @google/gemini-cli@0.61.0" .
#
# Agent CLIs are build arguments (npm package specs, pinned by the user); none is installed by
# default so the base stays small. AIDER=1 adds Aider from PyPI in a virtualenv.
ARG DEBIAN_TAG=bookworm-slim
# Keep in step with WORKER_NODE_VERSION in docker/node.env.
ARG NODE_VERSION=22.23.3
FROM node:${NODE_VERSION}-bookworm-slim AS node

FROM debian:${DEBIAN_TAG}

ARG AGENT_CLIS=""
ARG AIDER=0
ARG AIDER_VERSION=""

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-pytest python3-venv git ca-certificates procps iproute2 findutils \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx

RUN if [ -n "$AGENT_CLIS" ]; then npm install -g --no-fund --no-audit $AGENT_CLIS && npm cache clean --force; fi
RUN if [ "$AIDER" = "1" ]; then \
      python3 -m venv /opt/aider && /opt/aider/bin/pip install --no-cache-dir "aider-chat${AIDER_VERSION:+==$AIDER_VERSION}" \
      && ln -s /opt/aider/bin/aider /usr/local/bin/aider; \
    fi

RUN groupadd -g 1000 worker \
 && useradd -m -u 1000 -g 1000 -s /bin/sh worker \
 && mkdir -p /workspace /factory \
 && chown 1000:1000 /workspace

USER 1000:1000
WORKDIR /workspace
ENV HOME=/home/worker
CMD ["/bin/sh"]
