import { strict as assert } from 'node:assert';
// The decision half of `npm run demo`'s set-up (the README's first command on a fresh machine).
import { provisionPlan } from '../../../scripts/demo-provision.mjs';

const fresh = { isRoot: true, hasApt: true, engineUp: false, imagePresent: false, optOut: false };

describe('npm run demo: what it provisions', () => {
  it('on a fresh Debian machine as root: installs and starts the engine, then builds the image', () => {
    assert.deepEqual(provisionPlan(fresh), { steps: ['engine', 'image'] });
  });

  it('with an engine but no image: only builds the image; with both: nothing', () => {
    assert.deepEqual(provisionPlan({ ...fresh, engineUp: true }), { steps: ['image'] });
    assert.deepEqual(provisionPlan({ ...fresh, engineUp: true, imagePresent: true }), { steps: [] });
  });

  it('never starts a local engine when DOCKER_HOST points elsewhere', () => {
    const r = provisionPlan({ ...fresh, dockerHost: 'tcp://127.0.0.1:2376' });
    assert.deepEqual(r.steps, []);
    assert.match(r.error ?? '', /no Docker engine is reachable at DOCKER_HOST=tcp:\/\/127\.0\.0\.1:2376/);
  });

  it('without root or apt, or when told not to, says which commands to run instead', () => {
    for (const s of [{ ...fresh, isRoot: false }, { ...fresh, hasApt: false }, { ...fresh, optOut: true }]) {
      const r = provisionPlan(s);
      assert.deepEqual(r.steps, []);
      assert.match(r.error ?? '', /start dockerd/);
      assert.match(r.error ?? '', /scripts\/ci\/provision-docker\.sh && bash scripts\/build-worker-image\.sh/);
    }
    assert.match(provisionPlan({ ...fresh, isRoot: false, engineUp: true }).error ?? '', /build-worker-image\.sh/);
  });
});
