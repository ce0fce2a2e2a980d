import { strict as assert } from 'node:assert';
import type Docker from 'dockerode';

/**
 * The part of SECURITY 1 that is the same for every container the Controller creates, on an
 * engine create body: no network, every capability dropped, no-new-privileges, a read-only root,
 * not privileged, no swap on top of the memory cap. Limits and labels differ per test.
 */
export function assertLockedDown(body: Docker.ContainerCreateOptions): void {
  const hc = body.HostConfig!;
  assert.equal(hc.NetworkMode, 'none');
  assert.equal(body.NetworkDisabled, true);
  assert.deepEqual(hc.CapDrop, ['ALL']);
  assert.deepEqual(hc.SecurityOpt, ['no-new-privileges']);
  assert.equal(hc.ReadonlyRootfs, true);
  assert.equal(hc.Privileged, false);
  assert.equal(hc.MemorySwap, hc.Memory);
}
