import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { loadConfigStrict } from '../../../src/core/config/load';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, containersOf, exampleRepo, git, replayDir } from '../cycle/helpers';
import { WORKER_IMAGE, assertHardened, assertOwnedFolders, captureContainers, containerGone, ensureWorkerImage, type CapturedContainer } from './helpers';

// SECURITY 1 on the production path: the containers inspected here are the ones `factory run`
// (runCycle) and `factory sandbox` (the CLI itself) start, captured from the engine's event stream,
// not containers a test assembled. Issue 14 items 2 and 3.

const recording = (ticket: string) => JSON.parse(fs.readFileSync(path.join(REPLAYS, `${ticket}.json`), 'utf8')) as { steps: unknown[] };
/** Keeps a container alive a while, so that its inspection never races its removal on a loaded machine. */
const linger = { op: 'sleep', ms: 1_500 };

/**
 * The captured containers of one run, by role. Two Controllers can derive the same run id (the
 * second, the ticket and a commit that another test process made of the same example in the same
 * second), so a run's containers are also told apart by their owner when the caller knows it.
 */
function byRole(all: CapturedContainer[], runId: string, role: string, owner?: string): CapturedContainer[] {
  return all.filter((c) => c.labels['factory.run_id'] === runId && c.labels['factory.role'] === role && (!owner || c.labels['factory.owner'] === owner));
}

/** The one inspected container of a role (the inspection must have won the race against removal). */
function only(all: CapturedContainer[], runId: string, role: string, owner?: string): CapturedContainer & { info: Docker.ContainerInspectInfo } {
  const found = byRole(all, runId, role, owner);
  assert.equal(found.length, 1, `one ${role} container of ${runId}, got ${found.length}`);
  const c = found[0];
  assert.ok(c.info, `${role} container inspected while it existed: ${c.error}`);
  return c as CapturedContainer & { info: Docker.ContainerInspectInfo };
}

describe('docker: SEC-01 the real container of every role on the production path (docker inspect)', function () {
  this.timeout(600_000);
  const docker = new Docker();
  before(function () {
    requireDocker(this);
    ensureWorkerImage();
    build(); // dist/cli.js for `factory sandbox`, dist/worker.js for the runtime inside the containers
  });
  after(cleanup);

  describe('a HIGH-risk cycle (runCycle, what `factory run` calls): its Worker, Gate and Auditor containers', () => {
    let repo: string;
    let config: FactoryConfig;
    let captured: CapturedContainer[] = [];
    let runId = '';
    const me = `${os.hostname()}:${process.pid}`;

    before(async function () {
      this.timeout(600_000);
      repo = exampleRepo();
      ({ config } = await loadConfigStrict(repo));
      // HIGH risk calls the Auditor. Limits unlike every default, so "the configured values" is proven.
      config.risk.rules = [{ pattern: 'engine/pricing.py', level: 'HIGH' }];
      Object.assign(config.worker, { memoryMb: 768, cpus: 1.5, pidsLimit: 200, tmpfsMb: 48, workspaceMb: 96 });
      // The Gate's first step waits 1.5 s before it runs its real command: its one container (issue 18)
      // then outlives its inspection by far, however loaded the machine. What the Gate checks is unchanged.
      const slow = (command: string[]) => ['sh', '-c', 'sleep 1.5 && exec "$@"', 'gate-step', ...command];
      config.guards = config.guards.map((g, i) => (i === 0 ? { ...g, command: slow(g.command) } : g));
      const replays = replayDir({
        'D201.json': { steps: [linger, ...recording('D201').steps] },
        'D201.audit.json': {
          steps: [linger, { op: 'write', path: '/factory/out/audit_report.json', content: JSON.stringify({ ticket_id: 'D201', verdict: 'PASS', violations: [], summary: 'ok', model: 'replay-auditor', cost_usd: 0 }) }],
        },
      });
      const capture = await captureContainers(docker);
      try {
        const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config });
        runId = o.runId;
        assert.equal(o.status, 'PASS', o.reasons.join('; '));
        assert.equal(o.audit?.verdict, 'PASS', 'the Auditor ran');
      } finally {
        captured = await capture.stop();
      }
    });

    const limits = () => ({ memoryMb: 768, cpus: 1.5, pidsLimit: 200, tmpfsMb: 48 });

    it('SEC-01 the cycle\'s Worker container is hardened, with the configured limits and worker.workspaceMb as its file-size limit', () => {
      const w = only(captured, runId, 'worker', me);
      assertHardened(w.info, { role: 'worker', runId, limits: limits(), fileSizeMb: 96, owner: me, hostRoots: [repo] });
      assert.ok(w.info.Mounts.some((m) => m.Destination === '/factory/plan' && !m.RW), 'plan folder read-only');
    });

    it('SEC-01 every Gate container of the cycle is hardened, with the configured limits, over the staging copy read-only', () => {
      const gates = byRole(captured, runId, 'gate', me);
      // Issue 18: every guard and stage of the Gate runs in one container (`docker exec`).
      assert.equal(gates.length, 1, 'one Gate container for all its guards and stages');
      for (const g of gates) {
        assert.ok(g.info, `gate container inspected while it existed: ${g.error}`);
        assertHardened(g.info, { role: 'gate', runId, limits: limits(), owner: me, hostRoots: [repo] });
        assert.deepEqual(g.info.Mounts.filter((m) => m.RW).map((m) => m.Destination), [], 'the Gate writes no host folder');
        // The keep-alive runs as a user the steps cannot signal; the tmpfs folders belong to the steps' user.
        assert.equal(g.info.Config.User, '65534:65534');
        const tmp = (g.info.HostConfig as { Tmpfs?: Record<string, string> }).Tmpfs?.['/tmp'] ?? '';
        assert.match(tmp, /(^|,)uid=(?!65534,)\d+(,|$)/, `the steps' /tmp belongs to their user (${tmp})`);
      }
    });

    it('SEC-01 the Auditor container of a HIGH-risk cycle is hardened like the Worker, worker.workspaceMb as its file-size limit', () => {
      const a = only(captured, runId, 'auditor', me);
      assertHardened(a.info, { role: 'auditor', runId, limits: limits(), fileSizeMb: 96, owner: me, hostRoots: [repo] });
      assert.ok(a.info.Mounts.some((m) => m.Destination === '/workspace' && !m.RW), 'the tree read-only');
    });

    it('SEC-01 the Worker\'s writable host folders (workspace, output, agent output) belong to its user and are not world-writable', () => {
      const w = only(captured, runId, 'worker', me);
      const uid = assertHardened(w.info, { role: 'worker', runId, limits: limits(), owner: me });
      assert.deepEqual(w.writable.map((f) => f.destination).sort(), ['/factory/agent', '/factory/out', '/workspace'].sort(), 'the writable mounts');
      assertOwnedFolders(w, uid, 'worker');
    });

    it('SEC-01 the Auditor\'s writable host folders (its output, its agent output) belong to its user and are not world-writable', () => {
      const a = only(captured, runId, 'auditor', me);
      const uid = Number(/^(\d+):/.exec(a.info.Config.User)?.[1]);
      assert.ok(a.writable.some((f) => f.destination === '/factory/out'), 'the report folder is writable');
      assertOwnedFolders(a, uid, 'auditor');
    });

    it('SEC-01 every container of the cycle is removed after the run', async () => {
      const ours = captured.filter((c) => c.labels['factory.run_id'] === runId && c.labels['factory.owner'] === me);
      assert.ok(ours.length >= 3, `captured ${ours.length} containers`);
      for (const c of ours) assert.ok(await containerGone(docker, c.id), `${c.labels['factory.role']} container ${c.id.slice(0, 12)} still exists`);
      assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`factory.run_id=${runId}`, `factory.owner=${me}`] } }), []);
    });
  });

  describe('`factory sandbox --agent replay` (node dist/cli.js, what a terminal runs)', () => {
    let repo: string;
    let captured: CapturedContainer[] = [];
    const runId = `sec01_${process.pid}_${Date.now()}`;
    // The sandbox has no limit options: it runs with the config's defaults.
    const defaults = defaultConfig().worker;
    const limits = { memoryMb: defaults.memoryMb, cpus: defaults.cpus, pidsLimit: defaults.pidsLimit, tmpfsMb: defaults.tmpfsMb };

    before(async function () {
      this.timeout(300_000);
      repo = exampleRepo();
      // The example's own worker limits are dropped, so the defaults are the configured values
      // whether or not the sandbox reads the config.
      const cfgFile = path.join(repo, '.factory', 'config.json');
      const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
      delete cfg.worker;
      fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
      git(repo, 'commit', '-qam', 'default worker limits');
      const dir = replayDir({ 'D201.json': { steps: [linger, ...recording('D201').steps] } });
      const planFile = path.join(dir, 'plan.json');
      fs.writeFileSync(planFile, JSON.stringify({
        schema_version: 1, run_id: runId, ticket_id: 'D201', ac_ids: ['D201::AC-2', 'D201::AC-3'],
        scope: { modify: ['engine/pricing.py', 'tests/test_pricing.py'], readonly: ['engine/fees.py'], forbidden: ['D_ROADMAP.md', '.factory/**'] },
        done_criteria: 'Gate PASS', timeout_minutes: 5, model_budget: 'standard', risk_level: 'MED', agent: 'replay', created_at: new Date().toISOString(),
      }));
      const capture = await captureContainers(docker);
      try {
        const r = await cli(['sandbox', '--root', repo, '--plan', planFile, '--image', WORKER_IMAGE, '--agent', 'replay', '--replay', path.join(dir, 'D201.json'), '--json']);
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'PASS');
      } finally {
        captured = await capture.stop();
      }
    });

    it('SEC-01 the `factory sandbox` Worker container is hardened, with the default limits and the workspace cap as its file-size limit', () => {
      const w = only(captured, runId, 'worker');
      const uid = assertHardened(w.info, { role: 'worker', runId, limits, fileSizeMb: defaults.workspaceMb, hostRoots: [repo] });
      assert.notEqual(w.info.Config.Labels?.['factory.owner'], `${os.hostname()}:${process.pid}`, 'owned by the CLI process');
      assert.notEqual(uid, 0);
    });

    it('SEC-01 the `factory sandbox` Worker\'s writable host folders belong to its user and are not world-writable', () => {
      const w = only(captured, runId, 'worker');
      const uid = Number(/^(\d+):/.exec(w.info.Config.User)?.[1]);
      assert.deepEqual(w.writable.map((f) => f.destination).sort(), ['/factory/agent', '/factory/out', '/workspace'].sort(), 'the writable mounts');
      assertOwnedFolders(w, uid, 'sandbox worker');
    });

    it('SEC-01 the `factory sandbox` Worker container is removed after the run', async () => {
      const w = only(captured, runId, 'worker');
      assert.ok(await containerGone(docker, w.id));
      assert.deepEqual(containersOf(runId), []);
    });
  });
});
