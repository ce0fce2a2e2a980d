import * as assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { relayServiceName, runNetworkName, runSlug } from '../../../../src/core/backend/swarm/names';
import { relayDockerfile, relayImageTag } from '../../../../src/core/backend/swarm/relay-image';
import { relayServiceSpec, type RelayOptions } from '../../../../src/core/backend/swarm/relay-service';
import { localNodeId, swarmCapacity, swarmChecks } from '../../../../src/core/backend/swarm/swarm-check';
import { configSchema } from '../../../../src/core/config/schema';
import { LABELS, ownerTag } from '../../../../src/core/sandbox/container-spec';
import { FactoryError } from '../../../../src/core/util/errors';

const relayOpts: RelayOptions = { runId: 'Run_2026/01', runDir: '/tmp/factory-run', image: 'agentic-factory/relay:abc', port: 8080, network: 'net1', nodeId: 'node9', user: '1000:1000' };

/** An engine that answers only what swarm-check asks. */
function fakeEngine(over: { swarm?: object; nodes?: object[]; image?: boolean; plugins?: string[] } = {}): Docker {
  return {
    version: () => Promise.resolve({ Version: '20.10.24', ApiVersion: '1.41' }),
    info: () => Promise.resolve({ Swarm: over.swarm ?? { LocalNodeState: 'active', NodeID: 'n1', ControlAvailable: true }, Plugins: { Network: over.plugins ?? ['bridge', 'overlay'] } }),
    listNodes: () => Promise.resolve(over.nodes ?? []),
    getImage: () => ({ inspect: () => (over.image === false ? Promise.reject(new Error('no such image')) : Promise.resolve({ Id: 'sha256:1' })) }),
  } as unknown as Docker;
}

const node = (state: string, availability: string, cpus: number, memGb: number) => ({
  Status: { State: state },
  Spec: { Availability: availability },
  Description: { Hostname: `h-${cpus}`, Resources: { NanoCPUs: cpus * 1e9, MemoryBytes: memGb * 1024 ** 3 } },
});

describe('swarm: relay service, names and checks (pure)', () => {
  it('names a run\'s objects DNS-safe and distinct', () => {
    assert.match(runSlug('Run_2026/01'), /^run-2026-01-[0-9a-f]{6}$/);
    assert.notEqual(runSlug('a_b'), runSlug('a-b'));
    assert.ok(relayServiceName('x'.repeat(200)).length <= 63);
    assert.match(runNetworkName('r'), /^factory-net-r-[0-9a-f]{6}$/);
  });

  it('the relay image is the worker image plus the bundle, non-root, tagged by both', () => {
    assert.equal(relayDockerfile('sha256:w'), 'FROM sha256:w\nCOPY relay.js /opt/factory/relay.js\nUSER 1000:1000\nCMD ["node", "/opt/factory/relay.js"]\n');
    const a = relayImageTag('sha256:w', Buffer.from('x'));
    assert.match(a, /^agentic-factory\/relay:[0-9a-f]{16}$/);
    assert.equal(relayImageTag('sha256:w', Buffer.from('x')), a);
    assert.notEqual(relayImageTag('sha256:w2', Buffer.from('x')), a);
    assert.notEqual(relayImageTag('sha256:w', Buffer.from('y')), a);
  });

  it('SEC-01 the relay: one replica restarted on failure at most 3 times, pinned to this node, dnsrr, the run network only, hardened, the run folder its one bind mount', () => {
    const svc = relayServiceSpec(relayOpts);
    const task = svc.TaskTemplate as Docker.ContainerTaskSpec;
    const cs = task.ContainerSpec!;
    assert.equal(svc.Name, relayServiceName(relayOpts.runId));
    assert.deepEqual(svc.Mode, { Replicated: { Replicas: 1 } });
    assert.deepEqual(task.RestartPolicy, { Condition: 'on-failure', MaxAttempts: 3, Delay: 1e9 });
    assert.deepEqual(task.Placement, { Constraints: ['node.id==node9'] });
    assert.deepEqual(task.Networks, [{ Target: 'net1' }]);
    assert.deepEqual(svc.EndpointSpec, { Mode: 'dnsrr' });
    assert.equal(cs.User, '1000:1000');
    assert.equal(cs.ReadOnly, true);
    assert.deepEqual(cs.CapabilityDrop, ['ALL']);
    assert.equal(cs.Init, true);
    assert.deepEqual(cs.Env, ['RELAY_PORT=8080', 'RELAY_DIR=/relay']);
    assert.deepEqual(cs.Mounts?.filter((m) => m.Type === 'bind').map((m) => [m.Source, m.Target, m.ReadOnly]), [['/tmp/factory-run', '/relay', false]]);
    assert.deepEqual(task.Resources?.Limits, { MemoryBytes: 512 * 1024 * 1024, NanoCPUs: 1e9, Pids: 128 });
    assert.equal(svc.Labels?.[LABELS.owner], ownerTag());
    assert.equal(svc.Labels?.[LABELS.role], 'relay');
    assert.equal(svc.Labels?.[LABELS.deadline], undefined);
  });

  it('the relay refuses root, the home folder and a .git folder as its run folder', () => {
    const refused = (e: unknown) => e instanceof FactoryError && e.code === 'sandbox-spec';
    assert.throws(() => relayServiceSpec({ ...relayOpts, user: '0:0' }), refused);
    assert.throws(() => relayServiceSpec({ ...relayOpts, runDir: process.env.HOME ?? '/root' }), refused);
    assert.throws(() => relayServiceSpec({ ...relayOpts, runDir: '/repo/.git/x' }), refused);
  });

  it('capacity sums, over ready and active nodes, the smaller of CPU and memory slots', async () => {
    const docker = fakeEngine({ nodes: [node('ready', 'active', 8, 4), node('ready', 'active', 2, 64), node('down', 'active', 64, 64), node('ready', 'drain', 64, 64)] });
    // 8 CPUs / 4 GiB with 1 CPU + 1 GiB jobs: 4; 2 CPUs / 64 GiB: 2.
    assert.equal(await swarmCapacity(docker, { memoryMb: 1024, cpus: 1 }), 6);
    assert.equal(await swarmCapacity(docker, { memoryMb: 1024, cpus: 4 }), 2);
  });

  it('doctor says what is missing, each with a fix', async () => {
    const ok = await swarmChecks(fakeEngine({ nodes: [node('ready', 'active', 2, 2)] }), configSchema.parse({}));
    assert.deepEqual(ok.map((c) => [c.id, c.ok]), [['swarm.engine', true], ['swarm.manager', true], ['swarm.node', true], ['swarm.nodes', true], ['swarm.image', true], ['swarm.network', true]]);
    const bad = await swarmChecks(fakeEngine({ swarm: { LocalNodeState: 'inactive', NodeID: '' }, image: false, plugins: ['bridge'] }), configSchema.parse({}));
    assert.deepEqual(bad.map((c) => [c.id, c.ok]), [['swarm.engine', true], ['swarm.manager', false], ['swarm.node', false], ['swarm.image', false], ['swarm.network', false]]);
    for (const c of bad.filter((x) => !x.ok)) assert.ok(c.fix && c.fix.length > 0, c.id);
    assert.match(bad.find((c) => c.id === 'swarm.image')!.detail, /other nodes cannot be asked/);
    const worker = await swarmChecks(fakeEngine({ swarm: { LocalNodeState: 'active', NodeID: 'n2', ControlAvailable: false } }), configSchema.parse({}));
    assert.match(worker.find((c) => c.id === 'swarm.manager')!.detail, /worker, not a manager/);
    await assert.rejects(localNodeId(fakeEngine({ swarm: { LocalNodeState: 'inactive' } })), (e: unknown) => e instanceof FactoryError && e.code === 'swarm.unavailable');
    assert.equal(await localNodeId(fakeEngine()), 'n1');
  });
});
