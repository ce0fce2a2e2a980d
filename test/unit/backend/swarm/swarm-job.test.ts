import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { buildServiceSpec } from '../../../../src/core/backend/swarm/service-spec';
import { startSwarmJob } from '../../../../src/core/backend/swarm/swarm-job';
import { LABELS, type ContainerSpec } from '../../../../src/core/sandbox/container-spec';
import { FactoryError } from '../../../../src/core/util/errors';

/** One frame of Docker's multiplexed log format. */
function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

interface Script {
  /** Task states returned by successive task-list calls (the last repeats). */
  states: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } }[];
  /** What the follow stream delivers at once. */
  follow?: Buffer;
  /** The whole log, as a non-follow read returns it. */
  all?: Buffer;
  createFails?: boolean;
  /** Receives the body the runner creates the service with. */
  created?: (svc: Docker.CreateServiceOptions) => void;
}

/** An engine scripted per test; records removals. */
function fakeSwarm(script: Script): { docker: Docker; removed: string[] } {
  const removed: string[] = [];
  let call = 0;
  const docker = {
    createService: (svc: Docker.CreateServiceOptions) => {
      script.created?.(svc);
      return script.createFails ? Promise.reject(new Error('name conflicts')) : Promise.resolve({ id: 'svc1' });
    },
    listTasks: () => {
      const s = script.states[Math.min(call++, script.states.length - 1)];
      return Promise.resolve([{ CreatedAt: '2026-01-01T00:00:00Z', Status: s }]);
    },
    getService: (id: string) => ({
      remove: () => (removed.push(id), Promise.resolve()),
      logs: (o: { follow?: boolean }) => {
        if (!o.follow) return Promise.resolve(script.all ?? Buffer.alloc(0));
        const s = new PassThrough();
        if (script.follow) s.write(script.follow);
        return Promise.resolve(s);
      },
    }),
    getContainer: () => ({ inspect: () => Promise.resolve({ State: { OOMKilled: true } }) }),
  } as unknown as Docker;
  return { docker, removed };
}

const spec: ContainerSpec = { image: 'i', cmd: ['true'], mounts: [], limits: { memoryMb: 64, cpus: 1, pidsLimit: 64, tmpfsMb: 8 }, labels: { runId: 'r', ticket: 'T', role: 'worker' }, timeoutMs: 60_000 };
const place = { jobId: 'r-1', network: 'n', constraints: [], tmpfs: [] };
const opts = { timeoutMs: 10_000, scheduleTimeoutMs: 10_000, logCapBytes: 1 << 20, pollMs: 5 };
const running = { State: 'running', ContainerStatus: { ContainerID: 'c1' } };

describe('swarm: job runner (fake engine)', () => {
  it('maps a failed task with an exit code onto exited + code, catches up the output the stream missed, removes the service', async () => {
    const all = Buffer.concat([frame(1, 'one\n'), frame(2, 'warn\n'), frame(1, 'two\n')]);
    const { docker, removed } = fakeSwarm({ states: [{ State: 'preparing' }, running, running, { State: 'failed', Err: 'task: non-zero exit (3)', ContainerStatus: { ContainerID: 'c1', ExitCode: 3 } }], follow: frame(1, 'one\n'), all });
    const seen: string[] = [];
    let started = 0;
    const r = await startSwarmJob(docker, { Name: 'factory-x' }, { ...opts, onStart: () => started++, onOutput: (s, c) => seen.push(`${s}:${c.toString()}`) }).done;
    assert.equal(r.status, 'exited');
    assert.equal(r.exitCode, 3);
    assert.equal(r.oomKilled, true);
    assert.equal(r.containerId, 'c1');
    assert.equal(started, 1);
    assert.deepEqual(seen, ['stdout:one\n', 'stderr:warn\n', 'stdout:two\n']);
    assert.equal(r.outputBytes, 13);
    assert.deepEqual(removed, ['svc1']);
  });

  it('caps the recorded output and says so', async () => {
    const { docker } = fakeSwarm({ states: [running, { State: 'complete', ContainerStatus: { ContainerID: 'c1', ExitCode: 0 } }], all: frame(1, 'x'.repeat(100)) });
    const seen: Buffer[] = [];
    const r = await startSwarmJob(docker, {}, { ...opts, logCapBytes: 10, onOutput: (_s, c) => seen.push(c) }).done;
    assert.equal(r.exitCode, 0);
    assert.equal(Buffer.concat(seen).length, 10);
    assert.equal(r.logTruncated, true);
    assert.equal(r.outputBytes, 100);
    assert.ok(r.warnings.some((w) => /dropped/.test(w)));
  });

  it('a rejected task (no such image) is an error naming the swarm\'s reason', async () => {
    const { docker, removed } = fakeSwarm({ states: [{ State: 'rejected', Err: 'No such image: nope:1' }] });
    const r = await startSwarmJob(docker, {}, opts).done;
    assert.equal(r.status, 'error');
    assert.match(r.error ?? '', /rejected: No such image: nope:1/);
    assert.deepEqual(removed, ['svc1']);
  });

  it('a task that finds no node ends in swarm.job with the reason, and its service is removed', async () => {
    const { docker, removed } = fakeSwarm({ states: [{ State: 'pending', Err: 'no suitable node (insufficient resources on 1 node)' }] });
    await assert.rejects(startSwarmJob(docker, {}, { ...opts, scheduleTimeoutMs: 50 }).done, (e: unknown) => e instanceof FactoryError && e.code === 'swarm.job' && /insufficient resources/.test(e.message));
    assert.deepEqual(removed, ['svc1']);
  });

  it('a refused create rejects done and serviceId with swarm.job; an abort before start creates nothing', async () => {
    const job = startSwarmJob(fakeSwarm({ states: [], createFails: true }).docker, { Name: 'factory-x' }, opts);
    await assert.rejects(job.done, (e: unknown) => e instanceof FactoryError && e.code === 'swarm.job' && /name conflicts/.test(e.message));
    await assert.rejects(job.serviceId, /name conflicts/);
    const { docker, removed } = fakeSwarm({ states: [running] });
    const r = await startSwarmJob(docker, {}, { ...opts, signal: AbortSignal.abort() }).done;
    assert.equal(r.status, 'killed');
    assert.deepEqual(removed, []);
  });

  it('moves the deadline label past the scheduling wait, so the reaper never takes a job that waited for room as overdue', async () => {
    let body: Docker.CreateServiceOptions | undefined;
    const { docker } = fakeSwarm({ states: [{ State: 'complete', ContainerStatus: { ContainerID: 'c1', ExitCode: 0 } }], created: (s) => (body = s) });
    const svc = buildServiceSpec(spec, place, { now: Date.now(), graceMs: 0 });
    const before = Date.now();
    await startSwarmJob(docker, svc, { ...opts, timeoutMs: 60_000, scheduleTimeoutMs: 300_000 }).done;
    const deadline = Number(body!.Labels![LABELS.deadline]);
    assert.ok(deadline >= before + 360_000, `deadline ${deadline - before} ms ahead`);
    assert.equal((body!.TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!.Labels![LABELS.deadline], String(deadline));
    assert.equal(Number(svc.Labels![LABELS.deadline]) < deadline, true, 'the caller\'s body is not changed');
  });

  it('the time cap removes the service and reports timeout', async () => {
    const { docker, removed } = fakeSwarm({ states: [running] });
    const r = await startSwarmJob(docker, {}, { ...opts, timeoutMs: 30 }).done;
    assert.equal(r.status, 'timeout');
    assert.ok(removed.length >= 1 && removed.every((id) => id === 'svc1'));
  });
});
