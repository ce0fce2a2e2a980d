import { execFileSync } from 'node:child_process';
import Docker from 'dockerode';
import { LABELS, ownerTag } from '../../../src/core/sandbox/container-spec';
import { REQUIRE_ENGINES, dockerAvailable } from '../../support/engines';

/**
 * The Docker-tier swarm (issue 19): one single-node swarm on the local engine, shared by every
 * swarm test file. `ensureSwarm` initialises it when the engine is no swarm member yet and says
 * so; `leave()` removes what this test process created on it (services, networks and secrets
 * carrying its owner tag `factory.owner=<host>:<pid>`, which the product code writes on all three)
 * and leaves the swarm only when this process initialised it and no other Factory service is
 * left on it (another test process may share the swarm).
 */
export interface TestSwarm {
  /** True when this call ran `docker swarm init` (then `leave()` leaves). */
  initialised: boolean;
  /** The local node's id. */
  nodeId: string;
  leave(): Promise<void>;
}

const docker = new Docker();

function swarmState(): { state: string; nodeId: string; manager: boolean } {
  const out = execFileSync('docker', ['info', '--format', '{{json .Swarm}}'], { encoding: 'utf8', timeout: 20_000 });
  const s = JSON.parse(out) as { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean };
  return { state: s.LocalNodeState ?? 'inactive', nodeId: s.NodeID ?? '', manager: s.ControlAvailable === true };
}

function unavailable(ctx: Mocha.Context | undefined, why: string): never {
  const message = `a Docker swarm is not available: ${why}`;
  if (REQUIRE_ENGINES || !ctx) throw new Error(`${message}${REQUIRE_ENGINES ? ' (required in CI: FACTORY_REQUIRE_ENGINES=1)' : ''}`);
  console.warn(`  ! skipping: ${message}`);
  ctx.skip();
  throw new Error(message); // not reached: skip() throws mocha's Pending
}

/**
 * A swarm this process may use: `docker swarm init --advertise-addr 127.0.0.1` when the engine is
 * inactive. With `ctx` a missing engine or a failed init skips the suite locally; with
 * FACTORY_REQUIRE_ENGINES=1 (CI) it FAILS, never skips.
 */
export async function ensureSwarm(ctx?: Mocha.Context): Promise<TestSwarm> {
  if (!dockerAvailable()) unavailable(ctx, 'no Docker engine');
  let initialised = false;
  let s = swarmState();
  if (s.state !== 'active') {
    try {
      execFileSync('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { stdio: 'pipe', timeout: 60_000 });
      initialised = true;
    } catch (err) {
      // Another test process may have initialised it a moment ago.
      s = swarmState();
      if (s.state !== 'active') unavailable(ctx, `docker swarm init failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
    }
    s = swarmState();
  }
  if (!s.manager) unavailable(ctx, 'this engine is a swarm worker, not a manager');
  return { initialised, nodeId: s.nodeId, leave: () => leaveSwarm(initialised) };
}

/** Remove every swarm object this process labelled (owner tag), then leave if it initialised the swarm. */
export async function removeOwnSwarmObjects(owner = ownerTag()): Promise<void> {
  const filters = { label: [`${LABELS.owner}=${owner}`] };
  for (const svc of await docker.listServices({ filters })) {
    await docker.getService(svc.ID).remove().catch(() => undefined);
  }
  // A network is busy until the removed services' tasks are gone: retry for a while.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const nets = await docker.listNetworks({ filters });
    const secrets = await docker.listSecrets({ filters });
    for (const sec of secrets) await docker.getSecret(sec.ID).remove().catch(() => undefined);
    const left: string[] = [];
    for (const n of nets) {
      await docker.getNetwork(n.Id).remove().catch((err: unknown) => {
        if (!/no such|not found/i.test(String(err))) left.push(`${n.Name}: ${String(err)}`);
      });
    }
    if (left.length === 0 || Date.now() > deadline) {
      if (left.length) console.warn(`  ! swarm networks not removed: ${left.join('; ')}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function leaveSwarm(initialised: boolean): Promise<void> {
  await removeOwnSwarmObjects();
  if (!initialised) return;
  const others = await docker.listServices({ filters: { label: [`${LABELS.managed}=1`] } });
  if (others.length > 0) {
    console.warn(`  ! staying in the swarm: ${others.length} other Factory service(s) still run on it`);
    return;
  }
  execFileSync('docker', ['swarm', 'leave', '--force'], { stdio: 'pipe', timeout: 60_000 });
}

/** Factory services of a run (any state). */
export async function runServices(runId: string): Promise<Docker.Service[]> {
  return docker.listServices({ filters: { label: [`${LABELS.runId}=${runId}`] } });
}

export { docker as swarmDocker };
