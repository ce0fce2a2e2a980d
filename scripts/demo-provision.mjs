// What `npm run demo` must set up before it can run cycles, decided without side effects so it
// can be tested. The demo runs real Worker and Gate containers: on a fresh Debian machine as root
// it installs and starts the engine and builds the worker image itself (the README's promise:
// `npm ci && npm run demo`); anywhere else it says exactly what to run.

/**
 * @param {{ dockerHost?: string, isRoot: boolean, hasApt: boolean, engineUp: boolean,
 *           imagePresent: boolean, optOut: boolean }} s
 * @returns {{ steps: ('engine' | 'image')[], error?: string }}
 */
export function provisionPlan(s) {
  const steps = [];
  if (!s.engineUp) {
    if (s.dockerHost) {
      return { steps, error: `no Docker engine is reachable at DOCKER_HOST=${s.dockerHost}: start dockerd there, or unset DOCKER_HOST to use a local engine` };
    }
    if (s.optOut || !s.isRoot || !s.hasApt) {
      return {
        steps,
        error: 'no Docker engine is reachable. The demo runs real Worker and Gate containers: start dockerd, e.g. as root\n' +
          '  bash scripts/ci/provision-docker.sh && bash scripts/build-worker-image.sh\n' +
          '(installs Debian\'s docker.io, starts dockerd without a bridge network, builds the worker image), then run the demo again',
      };
    }
    steps.push('engine');
  }
  if (!s.imagePresent) {
    if (s.optOut || (!s.isRoot && !steps.length)) {
      return { steps, error: 'the Worker image is missing: build it with  bash scripts/build-worker-image.sh  (as root; ≈1 min, Debian packages only)' };
    }
    steps.push('image');
  }
  return { steps };
}
