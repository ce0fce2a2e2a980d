import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { TASK_ENV } from '../../../src/core/contracts/relay-protocol';
import { ensureRelayImage } from '../../../src/core/backend/swarm/relay-image';
import { RELAY_READY_FILE, startRelay, type RelayHandle } from '../../../src/core/backend/swarm/relay-service';
import { buildServiceSpec, type SwarmPlacement } from '../../../src/core/backend/swarm/service-spec';
import { localNodeId, swarmCapacity, swarmChecks } from '../../../src/core/backend/swarm/swarm-check';
import { startSwarmJob } from '../../../src/core/backend/swarm/swarm-job';
import { createRunNetwork, type RunNetwork } from '../../../src/core/backend/swarm/swarm-net';
import { createJobSecret } from '../../../src/core/backend/swarm/secrets';
import { reapSwarmOrphans } from '../../../src/core/backend/swarm/swarm-reaper';
import { configSchema } from '../../../src/core/config/schema';
import { LABELS, ownerTag, type ContainerSpec } from '../../../src/core/sandbox/container-spec';
import { FactoryError } from '../../../src/core/util/errors';
import { WORKER_IMAGE, ensureWorkerImage } from '../sandbox/helpers';
import { ensureSwarm, runServices, swarmDocker as docker, type TestSwarm } from './swarm-helpers';

const RUN = `t-swarm-${process.pid}`;
/** The task user: never root; it must own the relay's run folder. */
const USER = '1000:1000';

/** A tiny stand-in for dist/relay.js: answers "pong" and marks itself ready, as the real relay does. */
const STAND_IN_RELAY = `const http = require('http'), fs = require('fs'), path = require('path');
http.createServer((q, r) => r.end('pong')).listen(Number(process.env.RELAY_PORT), () => fs.writeFileSync(path.join(process.env.RELAY_DIR, '${RELAY_READY_FILE}'), '1'));`;

/** What a job on the run network sees: the internet (an IP, no DNS involved) and the relay by its service name. */
const PROBE = `const net = require('net'), http = require('http'), fs = require('fs'); const out = {}; let done = false;
try { const f = process.env.${TASK_ENV.tokenFile}; out.token = fs.readFileSync(f, 'utf8'); const st = fs.statSync(f); out.tokenMode = (st.mode & 0o777).toString(8); out.tokenUid = st.uid; } catch (e) { out.token = e.code; }
const next = () => { if (done) return; done = true; http.get(process.env.${TASK_ENV.relayUrl}, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => { out.relay = b; console.log(JSON.stringify(out)); }); }).on('error', (e) => { out.relay = e.code; console.log(JSON.stringify(out)); }); };
const s = net.connect({ host: '1.1.1.1', port: 443 }); s.setTimeout(5000, () => { out.internet = 'timeout'; s.destroy(); next(); });
s.on('connect', () => { out.internet = 'connected'; s.destroy(); next(); }); s.on('error', (e) => { out.internet = e.code; next(); });`;

function spec(cmd: string[], timeoutMs = 60_000): ContainerSpec {
  return {
    image: WORKER_IMAGE,
    cmd,
    env: { HOME: '/home/worker' },
    user: USER,
    mounts: [],
    tmpfs: ['/tmp', '/home/worker'],
    limits: { memoryMb: 128, cpus: 0.25, pidsLimit: 64, tmpfsMb: 8 },
    labels: { runId: RUN, ticket: 'T-1', role: 'worker' },
    timeoutMs,
  };
}

describe('docker: swarm jobs, the run network and the relay', function () {
  let swarm: TestSwarm;
  let net: RunNetwork;
  let relay: RelayHandle;
  let runDir: string;
  let jobs = 0;
  const place = (over: Partial<SwarmPlacement> = {}): SwarmPlacement => ({ jobId: `${RUN}-${++jobs}`, network: net.id, constraints: [], tmpfs: [{ containerPath: '/workspace', sizeMb: 16 }], ...over });

  before(async function () {
    this.timeout(600_000);
    swarm = await ensureSwarm(this);
    ensureWorkerImage();
    net = await createRunNetwork(docker, RUN, {});
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-relay-'));
    fs.chownSync(runDir, 1000, 1000);
    const bundle = path.join(runDir, 'relay.js');
    fs.writeFileSync(bundle, STAND_IN_RELAY);
    const image = await ensureRelayImage(docker, { workerImage: WORKER_IMAGE, relayBundle: bundle });
    assert.match(image, /^agentic-factory\/relay:[0-9a-f]{16}$/);
    assert.equal(await ensureRelayImage(docker, { workerImage: WORKER_IMAGE, relayBundle: bundle }), image, 'an unchanged pair reuses its tag');
    relay = await startRelay(docker, { runId: RUN, runDir, image, port: 8080, network: net.id, nodeId: swarm.nodeId, user: USER });
  });

  after(async function () {
    this.timeout(120_000);
    await relay?.stop();
    await net?.remove();
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    await swarm?.leave();
  });

  it('checks the swarm for doctor, names this node, and counts capacity from its nodes', async () => {
    const checks = await swarmChecks(docker, configSchema.parse({}));
    const byId = new Map(checks.map((c) => [c.id, c]));
    for (const id of ['swarm.engine', 'swarm.manager', 'swarm.node', 'swarm.nodes', 'swarm.network']) assert.equal(byId.get(id)?.ok, true, `${id}: ${byId.get(id)?.detail}`);
    assert.equal(await localNodeId(docker), swarm.nodeId);
    const cpus = os.cpus().length;
    assert.equal(await swarmCapacity(docker, { memoryMb: 1, cpus: 1 }), cpus);
    assert.equal(await swarmCapacity(docker, { memoryMb: 1, cpus: cpus + 1 }), 0);
  });

  it('SEC-01 runs a hardened job: inspect shows user, caps dropped, read-only, limits, reservations, only the run network, labels; exit code and logs come back', async () => {
    const out: string[] = [];
    const err: string[] = [];
    let svcInfo: Docker.Service | undefined;
    const job = startSwarmJob(docker, buildServiceSpec(spec(['sh', '-c', 'sleep 2; echo out; echo err >&2; id -u; exit 7']), place()), {
      timeoutMs: 60_000, scheduleTimeoutMs: 120_000, logCapBytes: 1 << 20,
      onOutput: (s, c) => (s === 'stdout' ? out : err).push(c.toString()),
      onStart: () => void job.serviceId.then(async (id) => (svcInfo = await docker.getService(id).inspect())),
    });
    const id = await job.serviceId;
    const taskContainer = await waitTaskContainer(id);
    const r = await job.done;
    assert.equal(r.status, 'exited', r.error);
    assert.equal(r.exitCode, 7);
    assert.equal(out.join(''), 'out\n1000\n');
    assert.equal(err.join(''), 'err\n');
    const cs = (svcInfo!.Spec!.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!;
    assert.equal(cs.User, USER);
    assert.deepEqual(cs.CapabilityDrop, ['ALL']);
    assert.equal(cs.ReadOnly, true);
    const res = (svcInfo!.Spec!.TaskTemplate as Docker.ContainerTaskSpec).Resources!;
    assert.deepEqual(res.Limits, { MemoryBytes: 128 * 1024 * 1024, NanoCPUs: 0.25e9, Pids: 64 });
    assert.deepEqual(res.Reservations, { MemoryBytes: 128 * 1024 * 1024, NanoCPUs: 0.25e9 });
    assert.equal(svcInfo!.Spec!.Labels?.[LABELS.owner], ownerTag());
    assert.equal(svcInfo!.Spec!.Labels?.[LABELS.runId], RUN);
    // The task's container as the engine runs it.
    const hc = taskContainer.HostConfig;
    assert.ok(hc.CapDrop?.includes('ALL'));
    assert.equal(hc.ReadonlyRootfs, true);
    assert.equal(hc.Memory, 128 * 1024 * 1024);
    assert.equal(hc.PidsLimit, 64);
    assert.equal(taskContainer.Config.User, USER);
    assert.equal(taskContainer.Config.Labels[LABELS.managed], '1');
    assert.deepEqual(Object.keys(taskContainer.NetworkSettings.Networks), [net.name]);
    assert.deepEqual(await runServices(RUN).then((l) => l.filter((s) => s.ID === id)), [], 'the service is removed');
  });

  it('SEC-02 a swarm job on the internal network cannot reach the internet but reaches the relay by its service name; its token secret is its user\'s only', async () => {
    const out: string[] = [];
    const p = place({ env: { [TASK_ENV.relayUrl]: relay.url } });
    const secret = await createJobSecret(docker, p.jobId, 'tok-123', { [LABELS.runId]: RUN });
    try {
      const r = await startSwarmJob(docker, buildServiceSpec(spec(['node', '-e', PROBE]), { ...p, secret: { id: secret.id, name: secret.name, target: 'factory-token' } }), {
        timeoutMs: 60_000, scheduleTimeoutMs: 120_000, logCapBytes: 1 << 20, onOutput: (_s, c) => out.push(c.toString()),
      }).done;
      assert.equal(r.status, 'exited', r.error);
    } finally {
      await secret.remove();
    }
    const seen = JSON.parse(out.join('').trim()) as { internet: string; relay: string; token: string; tokenMode: string; tokenUid: number };
    assert.deepEqual([seen.token, seen.tokenMode, seen.tokenUid], ['tok-123', '400', 1000]);
    assert.ok(['ENETUNREACH', 'EHOSTUNREACH'].includes(seen.internet), `internet: ${seen.internet}`);
    assert.equal(seen.relay, 'pong');
  });

  it('the time cap and an abort remove the service; no node with room ends in swarm.job with the swarm\'s reason', async () => {
    const ac = new AbortController();
    const capped = startSwarmJob(docker, buildServiceSpec(spec(['sleep', '120']), place()), { timeoutMs: 2_000, scheduleTimeoutMs: 120_000, logCapBytes: 1024 });
    const aborted = startSwarmJob(docker, buildServiceSpec(spec(['sleep', '120']), place()), { timeoutMs: 60_000, scheduleTimeoutMs: 120_000, logCapBytes: 1024, signal: ac.signal, onStart: () => setTimeout(() => ac.abort(), 500) });
    const huge = { ...spec(['true']), limits: { memoryMb: 128, cpus: os.cpus().length + 8, pidsLimit: 64, tmpfsMb: 8 } };
    const unplaceable = startSwarmJob(docker, buildServiceSpec(huge, place()), { timeoutMs: 60_000, scheduleTimeoutMs: 3_000, logCapBytes: 1024 });
    const [c, a] = await Promise.all([capped.done, aborted.done]);
    assert.equal(c.status, 'timeout');
    assert.equal(a.status, 'killed');
    await assert.rejects(unplaceable.done, (e: unknown) => e instanceof FactoryError && e.code === 'swarm.job' && /insufficient resources|no suitable node/i.test(e.message));
    const ids = await Promise.all([capped.serviceId, aborted.serviceId, unplaceable.serviceId]);
    const left = (await runServices(RUN)).filter((s) => ids.includes(s.ID));
    assert.deepEqual(left, []);
  });

  it('the swarm reaper removes the services and secrets of a gone Controller and overdue services, and leaves live ones', async () => {
    const dead = `${os.hostname()}:999999999`;
    const orphan = buildServiceSpec(spec(['sleep', '120']), place());
    orphan.Labels = { ...orphan.Labels, [LABELS.owner]: dead };
    const overdue = buildServiceSpec(spec(['sleep', '120']), place(), { now: Date.now() - 3_600_000 });
    const live = buildServiceSpec(spec(['sleep', '120']), place());
    const ids = await Promise.all([orphan, overdue, live].map(async (s) => (await docker.createService(s)).id));
    const sec = (await docker.createSecret({ Name: `factory-token-${RUN}-orphan`, Labels: { [LABELS.managed]: '1', [LABELS.owner]: dead }, Data: Buffer.from('x').toString('base64') })) as unknown as { id: string };
    try {
      const reaped = await reapSwarmOrphans(docker);
      assert.deepEqual(reaped.services.filter((s) => ids.includes(s.id)).map((s) => [s.id, s.reason]).sort(), [[ids[0], 'owner-gone'], [ids[1], 'overdue']].sort());
      assert.ok(reaped.secrets.includes(sec.id));
      assert.equal((await docker.getService(ids[2]).inspect()).ID, ids[2]);
    } finally {
      await docker.getService(ids[2]).remove();
    }
  });

  it('the relay runs pinned to this node on the run network and stops clean', async () => {
    assert.ok(fs.existsSync(path.join(runDir, RELAY_READY_FILE)));
    const info = await docker.getService(relay.serviceId).inspect();
    const task = info.Spec!.TaskTemplate as Docker.ContainerTaskSpec;
    assert.deepEqual(task.Placement?.Constraints, [`node.id==${swarm.nodeId}`]);
    assert.deepEqual(task.Networks?.map((n) => n.Target), [net.id]);
    assert.equal(task.ContainerSpec?.ReadOnly, true);
    assert.deepEqual(task.ContainerSpec?.CapabilityDrop, ['ALL']);
    assert.equal(info.Spec!.EndpointSpec?.Mode, 'dnsrr');
    await relay.stop();
    await relay.stop();
    await assert.rejects(docker.getService(relay.serviceId).inspect(), /no such service|not found/i);
  });
});

/** The task container of a service, inspected while it exists. */
async function waitTaskContainer(serviceId: string): Promise<Docker.ContainerInspectInfo> {
  for (let i = 0; i < 240; i++) {
    const tasks = (await docker.listTasks({ filters: { service: [serviceId] } })) as { Status?: { ContainerStatus?: { ContainerID?: string } } }[];
    const cid = tasks[0]?.Status?.ContainerStatus?.ContainerID;
    if (cid) {
      try {
        return await docker.getContainer(cid).inspect();
      } catch {
        // not created yet
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no task container for ${serviceId}`);
}
