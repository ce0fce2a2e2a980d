import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { auditJob } from '../../../src/core/auditor/run-auditor';
import { defaultConfig } from '../../../src/core/config/schema';
import { planSchema } from '../../../src/core/contracts/plan';
import { gateJob } from '../../../src/core/gate/container-runner';
import { buildCreateOptions, validateSpec } from '../../../src/core/sandbox/container-spec';
import { buildJobSpec, jobLimits, type ContainerJob } from '../../../src/core/sandbox/job';
import type { StagingCopy } from '../../../src/core/sandbox/staging';
import type { WorkerLaunch } from '../../../src/core/sandbox/worker-launch';
import { workerJob } from '../../../src/core/sandbox/worker-job';
import { assertLockedDown } from '../../support/hardening';

const MiB = 1024 * 1024;
const config = defaultConfig();
// Values unlike any default, so a role that skips the config shows.
Object.assign(config.worker, { memoryMb: 1536, cpus: 1.5, pidsLimit: 128, tmpfsMb: 64, workspaceMb: 300, logCapMb: 7 });
const limits = jobLimits(config.worker);
const plan = planSchema.parse({
  schema_version: 1, run_id: 'run-1', ticket_id: 'T-1', ac_ids: ['T-1::AC-1'],
  scope: { modify: ['src/**'] }, timeout_minutes: 2, model_budget: 'standard', risk_level: 'HIGH',
  agent: 'replay', created_at: new Date().toISOString(),
});
const base = '/tmp/factory-run-1-x';
const staging = { dir: base, workspace: `${base}/workspace`, control: `${base}/control`, output: `${base}/output`, uid: 1000, gid: 1000 } as StagingCopy;
const launch = {
  command: ['node', '/factory/task/worker.js', 'run'],
  env: { FACTORY_TASK: '/factory/task/worker-task.json' },
  mounts: [{ hostPath: '/tmp/factory-agent-x', containerPath: '/factory/agent', readOnly: false }],
} as unknown as WorkerLaunch;

/** Each role's job as its own call site builds it. */
const jobs: Record<'worker' | 'sandbox' | 'auditor' | 'gate', ContainerJob> = {
  worker: workerJob({ role: 'worker', plan, staging, listing: new Map(), image: 'img', cmd: launch.command, env: launch.env, extraMounts: launch.mounts, limits, repo: '/srv/repo' }),
  sandbox: workerJob({ role: 'sandbox', plan, staging, listing: new Map(), image: 'img', cmd: ['sh', '-c', 'true'], limits, repo: '/srv/repo' }),
  auditor: auditJob(
    { root: '/srv/repo', config, plan, workspace: staging.workspace, changes: [], rules: '', reason: 'risk' },
    plan,
    { dir: '/tmp/factory-audit-x', planDir: '/tmp/factory-audit-x/plan', inDir: '/tmp/factory-audit-x/in', outDir: '/tmp/factory-audit-x/out' },
    launch,
  ),
  gate: gateJob({ treeDir: staging.workspace, image: 'img', limits, user: '1000:1000', readOnly: true, runId: plan.run_id, ticket: plan.ticket_id, repo: '/srv/repo', cleanupPath: base }, { argv: ['pytest', '-q'], timeoutMs: 60_000 }, staging.workspace),
};

describe('sandbox: one job builder gives every role the whole hardening profile', () => {
  for (const [role, job] of Object.entries(jobs)) {
    it(`SEC-01 the ${role} container: no network, caps dropped, no-new-privileges, read-only root, the Worker's limits, fsize = growth cap, non-root, labels`, () => {
      const spec = buildJobSpec(job);
      validateSpec(spec);
      const b = buildCreateOptions(spec, 1_000, 500);
      const hc = b.HostConfig!;
      assertLockedDown(b);
      assert.equal(hc.PidsLimit, 128);
      assert.equal(hc.Memory, 1536 * MiB);
      assert.equal(hc.NanoCpus, 1.5e9);
      assert.deepEqual(hc.Ulimits?.find((u) => u.Name === 'fsize'), { Name: 'fsize', Soft: 300 * MiB, Hard: 300 * MiB });
      assert.deepEqual(Object.keys(hc.Tmpfs ?? {}).sort(), ['/home/worker', '/tmp']);
      for (const t of Object.values(hc.Tmpfs ?? {})) assert.match(t, /size=64m/);
      const [uid, gid] = (b.User ?? '').split(':').map(Number);
      assert.ok(uid > 0 && gid > 0, `non-root user, got ${b.User}`);
      const labels = b.Labels ?? {};
      assert.equal(labels['factory.managed'], '1');
      assert.equal(labels['factory.role'], role === 'sandbox' ? 'worker' : role);
      assert.equal(labels['factory.run_id'], 'run-1');
      assert.equal(labels['factory.ticket'], 'T-1');
      assert.equal(labels['factory.repo'], '/srv/repo');
      assert.equal(labels['factory.owner'], `${os.hostname()}:${process.pid}`);
      assert.ok(labels['factory.cleanup'], 'a clean-up path for the reaper');
      assert.ok((b.Env ?? []).includes('HOME=/home/worker') && (b.Env ?? []).includes('PYTHONDONTWRITEBYTECODE=1'), 'the base environment');
    });
  }

  it('every role has a finite log cap: the Worker\'s roles the configured one, the Gate (which keeps the tail itself) the growth cap; an explicit cap wins', () => {
    for (const [role, job] of Object.entries(jobs)) {
      const cap = buildJobSpec(job).logCapBytes;
      assert.ok(cap !== undefined && Number.isFinite(cap) && cap > 0, `${role}: log cap set`);
      assert.equal(cap, (role === 'gate' ? 300 : 7) * MiB, role);
    }
    assert.equal(buildJobSpec({ ...jobs.sandbox, logCapBytes: 1234 }).logCapBytes, 1234);
  });

  it('call sites say only what differs by role: the Worker\'s job mounts the copy, overlays and folders; the Auditor\'s everything read-only but its outputs', () => {
    const writable = (j: ContainerJob) => j.mounts.filter((m) => !m.readOnly).map((m) => m.containerPath);
    assert.deepEqual(writable(jobs.worker), ['/workspace', '/factory/out', '/factory/agent']);
    assert.deepEqual(writable(jobs.auditor), ['/factory/out', '/factory/agent']);
    assert.deepEqual(writable(jobs.gate), []);
    assert.equal(buildJobSpec(jobs.worker).user, '1000:1000');
    assert.equal(buildJobSpec(jobs.worker).timeoutMs, 2 * 60_000);
    assert.equal(buildJobSpec(jobs.worker).env?.FACTORY_RUN_ID, 'run-1');
    assert.equal(buildJobSpec(jobs.gate).env?.CI, 'true');
  });
});
