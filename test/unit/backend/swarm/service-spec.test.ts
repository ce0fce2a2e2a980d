import * as assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { TASK_ENV } from '../../../../src/core/contracts/relay-protocol';
import { buildServiceSpec, jobServiceName, type SwarmPlacement } from '../../../../src/core/backend/swarm/service-spec';
import { LABELS, ownerTag, type ContainerSpec } from '../../../../src/core/sandbox/container-spec';
import { FactoryError } from '../../../../src/core/util/errors';

const spec: ContainerSpec = {
  image: 'agentic-factory/worker-base:bookworm',
  cmd: ['node', '/opt/factory/boot.js'],
  env: { HOME: '/home/worker', A: 'b' },
  user: '1234:2345',
  mounts: [],
  tmpfs: ['/tmp', '/home/worker'],
  limits: { memoryMb: 512, cpus: 1.5, pidsLimit: 100, tmpfsMb: 32, fileSizeMb: 64 },
  labels: { runId: 'run-1', ticket: 'T-7', role: 'worker', repo: '/repo' },
  timeoutMs: 60_000,
  cleanupPath: '/tmp/factory-x',
};

const place: SwarmPlacement = {
  jobId: 'run-1-w-1',
  network: 'factory-run-1',
  constraints: ['node.labels.factory==worker'],
  tmpfs: [{ containerPath: '/workspace', sizeMb: 100 }, { containerPath: '/factory/out', sizeMb: 8 }],
  secret: { id: 'sec123', name: 'factory-run-1-w-1', target: 'factory-token' },
  env: { [TASK_ENV.relayUrl]: 'http://factory-relay-run-1:8080' },
};

const refused = (re: RegExp) => (e: unknown) => e instanceof FactoryError && e.code === 'sandbox-spec' && re.test(e.message);

describe('swarm: service spec of a job (pure)', () => {
  const svc = buildServiceSpec(spec, place, { now: 1_000, graceMs: 500 });
  const task = svc.TaskTemplate as Docker.ContainerTaskSpec;
  const cs = task.ContainerSpec!;

  it('is a replicated job with one completion, no restart, named after the job', () => {
    assert.equal(svc.Name, jobServiceName(place.jobId));
    assert.equal(svc.Name, 'factory-run-1-w-1');
    assert.deepEqual(svc.Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    assert.deepEqual(task.RestartPolicy, { Condition: 'none', MaxAttempts: 0 });
    assert.deepEqual(svc.EndpointSpec, { Mode: 'dnsrr' });
  });

  it('SEC-01 carries the local hardening: non-root user, caps dropped, read-only root, init, ulimits, no-new-privileges asked', () => {
    assert.equal(cs.User, '1234:2345');
    assert.deepEqual(cs.CapabilityDrop, ['ALL']);
    assert.deepEqual(cs.CapabilityAdd, []);
    assert.equal(cs.ReadOnly, true);
    assert.equal(cs.Init, true);
    assert.equal(cs.TTY, false);
    assert.equal((cs.Privileges as { NoNewPrivileges?: boolean }).NoNewPrivileges, true);
    const fsize = 64 * 1024 * 1024;
    assert.deepEqual(cs.Ulimits, [
      { Name: 'fsize', Soft: fsize, Hard: fsize },
      { Name: 'nofile', Soft: 4096, Hard: 4096 },
      { Name: 'core', Soft: 0, Hard: 0 },
    ]);
    assert.equal(cs.Image, spec.image);
    assert.deepEqual(cs.Command, spec.cmd);
    assert.equal(cs.Dir, '/workspace');
  });

  it('limits memory, CPU and pids, and reserves the same memory and CPU so the swarm packs jobs', () => {
    const mem = 512 * 1024 * 1024;
    assert.deepEqual(task.Resources?.Limits, { MemoryBytes: mem, NanoCPUs: 1.5e9, Pids: 100 });
    assert.deepEqual(task.Resources?.Reservations, { MemoryBytes: mem, NanoCPUs: 1.5e9 });
    const noReserve = buildServiceSpec(spec, { ...place, reserve: false }).TaskTemplate as Docker.ContainerTaskSpec;
    assert.equal(noReserve.Resources?.Reservations, undefined);
    assert.deepEqual(noReserve.Resources?.Limits, { MemoryBytes: mem, NanoCPUs: 1.5e9, Pids: 100 });
  });

  it('mounts only size-capped tmpfs (mode 1777): /tmp, the home and the placement folders', () => {
    assert.deepEqual(cs.Mounts, [
      { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 32 * 1024 * 1024, Mode: 0o1777 } },
      { Type: 'tmpfs', Source: '', Target: '/home/worker', TmpfsOptions: { SizeBytes: 32 * 1024 * 1024, Mode: 0o1777 } },
      { Type: 'tmpfs', Source: '', Target: '/workspace', TmpfsOptions: { SizeBytes: 100 * 1024 * 1024, Mode: 0o1777 } },
      { Type: 'tmpfs', Source: '', Target: '/factory/out', TmpfsOptions: { SizeBytes: 8 * 1024 * 1024, Mode: 0o1777 } },
    ]);
    assert.ok(!cs.Mounts.some((m) => m.Type === 'bind' || m.Type === 'volume'));
  });

  it('mounts the token secret for the task user only (0400) and tells the task where it is', () => {
    assert.deepEqual(cs.Secrets, [{ SecretID: 'sec123', SecretName: 'factory-run-1-w-1', File: { Name: 'factory-token', UID: '1234', GID: '2345', Mode: 0o400 } }]);
    const env = new Set(cs.Env);
    assert.ok(env.has(`${TASK_ENV.tokenFile}=/run/secrets/factory-token`));
    assert.ok(env.has(`${TASK_ENV.jobId}=run-1-w-1`));
    assert.ok(env.has(`${TASK_ENV.relayUrl}=http://factory-relay-run-1:8080`));
    assert.ok(env.has('A=b') && env.has('HOME=/home/worker'));
    const { secret: _s, ...noSecret } = place;
    const plain = (buildServiceSpec(spec, noSecret).TaskTemplate as Docker.ContainerTaskSpec).ContainerSpec!;
    assert.equal(plain.Secrets, undefined);
    assert.ok(!plain.Env!.some((e) => e.startsWith(`${TASK_ENV.tokenFile}=`)));
  });

  it('joins only the run network, with the placement constraints', () => {
    assert.deepEqual(task.Networks, [{ Target: 'factory-run-1' }]);
    assert.equal(svc.Networks, undefined);
    assert.deepEqual(task.Placement, { Constraints: ['node.labels.factory==worker'] });
  });

  it('labels the service and its container like a local container: managed, owner, deadline, run, ticket, role, repo, clean-up', () => {
    const want = {
      [LABELS.managed]: '1',
      [LABELS.runId]: 'run-1',
      [LABELS.ticket]: 'T-7',
      [LABELS.role]: 'worker',
      [LABELS.deadline]: String(1_000 + 60_000 + 500),
      [LABELS.owner]: ownerTag(),
      [LABELS.cleanup]: '/tmp/factory-x',
      [LABELS.repo]: '/repo',
    };
    assert.deepEqual(svc.Labels, want);
    assert.deepEqual(cs.Labels, want);
  });

  it('refuses a bind mount, a refused spec, a bad job id and a bad tmpfs', () => {
    assert.throws(() => buildServiceSpec({ ...spec, mounts: [{ hostPath: '/tmp/factory-x/ws', containerPath: '/workspace', readOnly: false }] }, place), refused(/no bind mounts/));
    assert.throws(() => buildServiceSpec({ ...spec, user: '0:0' }, place), refused(/non-root/));
    assert.throws(() => buildServiceSpec({ ...spec, cmd: [] }, place), refused(/command is empty/));
    assert.throws(() => buildServiceSpec({ ...spec, limits: { ...spec.limits, memoryMb: 0 } }, place), refused(/limits/));
    assert.throws(() => buildServiceSpec(spec, { ...place, jobId: 'Bad_Id' }), refused(/job id/));
    assert.throws(() => buildServiceSpec(spec, { ...place, network: '' }), refused(/run network/));
    assert.throws(() => buildServiceSpec(spec, { ...place, tmpfs: [{ containerPath: '/tmp', sizeMb: 4 }] }), refused(/unique/));
    assert.throws(() => buildServiceSpec(spec, { ...place, tmpfs: [{ containerPath: 'rel', sizeMb: 4 }] }), refused(/absolute/));
    assert.throws(() => buildServiceSpec(spec, { ...place, tmpfs: [{ containerPath: '/x', sizeMb: 0 }] }), refused(/size/));
  });
});
