import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RELAY_READY_FILE, TASK_ENV } from '../../../src/core/contracts/relay-protocol';
import { ensureRelayImage } from '../../../src/core/backend/swarm/relay-image';
import { startRelay } from '../../../src/core/backend/swarm/relay-service';
import { buildServiceSpec } from '../../../src/core/backend/swarm/service-spec';
import { localNodeId, swarmCapacity } from '../../../src/core/backend/swarm/swarm-check';
import { startSwarmJob } from '../../../src/core/backend/swarm/swarm-job';
import { createRunNetwork } from '../../../src/core/backend/swarm/swarm-net';
import { WORKER_IMAGE, ensureWorkerImage } from '../sandbox/helpers';
import { requireTwoNodes, startTwoNodes, type TwoNodes } from './two-nodes';

const RUN = `t-swarm2-${process.pid}`;
const RELAY = `const http = require('http'), fs = require('fs'), path = require('path');
http.createServer((q, r) => r.end('pong from ' + require('os').hostname())).listen(Number(process.env.RELAY_PORT), () => fs.writeFileSync(path.join(process.env.RELAY_DIR, '${RELAY_READY_FILE}'), '1'));`;
const PROBE = `require('http').get(process.env.${TASK_ENV.relayUrl}, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); }).on('error', (e) => console.log(e.code));`;

describe('docker: a second swarm node on this machine (its own network namespace and dockerd)', function () {
  let nodes: TwoNodes | undefined;
  let runDir = '';

  before(async function () {
    this.timeout(600_000);
    requireTwoNodes(this);
    ensureWorkerImage();
    nodes = await startTwoNodes();
    await nodes.loadImage(WORKER_IMAGE);
  });

  after(async function () {
    this.timeout(120_000);
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    await nodes?.stop();
  });

  it('places the Worker job on the other node, which reaches the relay on the Controller\'s node over the internal overlay', async function () {
    this.timeout(300_000);
    const { manager, managerId, workerId } = nodes!;
    assert.notEqual(managerId, workerId);
    assert.equal(await localNodeId(manager), managerId);
    assert.ok((await swarmCapacity(manager, { memoryMb: 64, cpus: 0.5 })) >= 2, 'both nodes count');
    const net = await createRunNetwork(manager, RUN, {});
    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-relay2-'));
    fs.chownSync(runDir, 1000, 1000);
    fs.writeFileSync(path.join(runDir, 'relay.js'), RELAY);
    const image = await ensureRelayImage(manager, { workerImage: WORKER_IMAGE, relayBundle: path.join(runDir, 'relay.js') });
    const relay = await startRelay(manager, { runId: RUN, runDir, image, port: 8080, network: net.id, nodeId: managerId, user: '1000:1000' });
    try {
      const out: string[] = [];
      const spec = { image: WORKER_IMAGE, cmd: ['node', '-e', PROBE], user: '1000:1000', mounts: [], limits: { memoryMb: 64, cpus: 0.25, pidsLimit: 64, tmpfsMb: 8 }, labels: { runId: RUN, ticket: 'T-1', role: 'worker' as const }, timeoutMs: 60_000 };
      const job = startSwarmJob(manager, buildServiceSpec(spec, { jobId: `${RUN}-w`, network: net.id, constraints: [`node.id==${workerId}`], tmpfs: [], env: { [TASK_ENV.relayUrl]: relay.url } }), {
        timeoutMs: 60_000, scheduleTimeoutMs: 120_000, logCapBytes: 4096, onOutput: (_s, c) => out.push(c.toString()),
      });
      const id = await job.serviceId;
      let ranOn = '';
      const watch = setInterval(() => void manager.listTasks({ filters: { service: [id] } }).then((t: { NodeID?: string }[]) => (ranOn = t[0]?.NodeID ?? ranOn), () => undefined), 200);
      const r = await job.done.finally(() => clearInterval(watch));
      assert.equal(r.status, 'exited', r.error);
      assert.equal(r.exitCode, 0);
      assert.equal(ranOn, workerId, 'the job ran on the second node');
      assert.match(out.join(''), /^pong from /, 'the task reached the relay across nodes');
    } finally {
      await relay.stop();
      await net.remove();
    }
  });
});
