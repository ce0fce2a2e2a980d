import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { ContainerRunner } from '../../../src/core/gate/container-runner';
import type { CommandSpec } from '../../../src/core/gate/stage-runner';
import { requireDocker } from '../../support/engines';

const IMAGE = process.env.FACTORY_WORKER_BASE_IMAGE ?? 'agentic-factory/worker-base:bookworm';
const sh = (script: string, timeoutMs = 30_000): CommandSpec => ({ argv: ['sh', '-c', script], timeoutMs, sessionTimeoutMs: 120_000 });

/**
 * Issue 18 item 7: a Gate's steps run in ONE container (`docker exec`), and one step cannot
 * tamper with the next: nothing it started survives, nothing it left in the tmpfs folders
 * remains. One runner, one sequence of steps, several assertions (the docker tier is timed).
 */
describe('docker: the Gate in one container (ContainerRunner exec session)', function () {
  this.timeout(300_000);
  const docker = new Docker();
  const runId = `gate-session-${process.pid}-${Date.now()}`;
  let tree: string;
  const started: string[] = [];
  const outcomes: Record<string, Awaited<ReturnType<ContainerRunner['run']>>> = {};
  let info: Docker.ContainerInspectInfo | undefined;
  let afterTimeout: { exists: boolean } = { exists: true };
  let afterAbort: { exists: boolean } = { exists: true };
  let leftAfterClose: Docker.ContainerInfo[] = [];

  before(async function () {
    requireDocker(this);
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe' });
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'gate-session-'));
    fs.writeFileSync(path.join(tree, 'README'), 'tree under test\n');
    fs.chmodSync(tree, 0o755);
    const runner = new ContainerRunner({
      treeDir: tree,
      image: IMAGE,
      limits: { memoryMb: 512, cpus: 1, pidsLimit: 128, tmpfsMb: 32 },
      readOnly: true,
      runId,
      ticket: 'session',
      docker,
      onContainerStart: async (id) => {
        started.push(id);
        info ??= await docker.getContainer(id).inspect();
      },
    });
    try {
      // Step 1 leaves a writer running (detached from its output), files in every tmpfs, and a child holding its stdout.
      outcomes.plant = await runner.run(sh([
        '(while :; do date >> /tmp/tick; sleep 0.05; done) >/dev/null 2>&1 &',
        'mkdir -p "$HOME/.local/lib" && echo planted > "$HOME/.local/lib/usercustomize.py"',
        'echo x > /dev/shm/planted; echo x > /tmp/.hidden',
        'sleep 60 &',
        'echo "planted as $(id -u)"; echo "0 failed" >&2; exit 3',
      ].join('\n')));
      // Step 2 looks for all of it, twice (a surviving writer would recreate /tmp/tick).
      outcomes.look = await runner.run(sh([
        'for i in 1 2; do',
        '  own=0; for d in /proc/[0-9]*; do [ "${d#/proc/}" = "$$" ] && continue; [ -O "$d" ] && own=$((own+1)); done',
        '  echo "pass $i: own=$own tmp=$(ls -A /tmp | wc -l) home=$(ls -A "$HOME" | wc -l) shm=$(ls -A /dev/shm | wc -l)"',
        '  sleep 0.3',
        'done',
        'kill -9 1 2>/dev/null; echo "kill keep-alive rc=$?"',
      ].join('\n')));
      outcomes.timeout = await runner.run(sh('echo slow; sleep 30', 1_500));
      afterTimeout = { exists: await docker.getContainer(started[0]).inspect().then(() => true, () => false) };
      outcomes.again = await runner.run(sh('echo fresh; exit 0'));
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 500);
      outcomes.aborted = await runner.run(sh('echo waiting; sleep 30'), stop.signal);
      afterAbort = { exists: await docker.getContainer(started[1]).inspect().then(() => true, () => false) };
    } finally {
      await runner.close();
      leftAfterClose = await docker.listContainers({ all: true, filters: { label: [`factory.run_id=${runId}`] } });
    }
  });
  after(() => tree && fs.rmSync(tree, { recursive: true, force: true }));

  it('runs consecutive steps in one hardened container as the Worker user, the keep-alive as another user', () => {
    assert.ok(info, 'the container was inspected');
    assert.equal(started.filter((id) => id === started[0]).length, 1);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
    assert.equal(info.Config.Labels['factory.role'], 'gate');
    assert.equal(info.Config.User, '65534:65534', 'the keep-alive is not the steps\' user');
    assert.deepEqual(info.Mounts.map((m) => [m.Destination, m.RW]), [['/workspace', false]]);
    assert.match(outcomes.plant.output, /planted as 1000/);
  });

  it('the exit code is the engine\'s, and a step whose child keeps its output open ends with the step (the engine waits ≤ 2 s for the output)', () => {
    assert.equal(outcomes.plant.exitCode, 3);
    assert.ok(outcomes.plant.durationMs < 10_000, `step 1 took ${outcomes.plant.durationMs} ms`);
    assert.match(outcomes.plant.output, /0 failed/, 'stderr is captured with stdout');
  });

  it('a background process, files in /tmp, the home and /dev/shm from step 1 do not survive into step 2, in the same container', () => {
    assert.equal(outcomes.look.exitCode, 0, outcomes.look.output);
    assert.equal(started.length >= 1 && outcomes.look.startError, undefined);
    const passes = outcomes.look.output.split('\n').filter((l) => l.startsWith('pass '));
    assert.deepEqual(passes, ['pass 1: own=0 tmp=0 home=0 shm=0', 'pass 2: own=0 tmp=0 home=0 shm=0'], outcomes.look.output);
    assert.match(outcomes.look.output, /kill keep-alive rc=1/, 'a step cannot signal the keep-alive');
  });

  it('a step past its time cap is reported as a timeout and its container removed; the next step gets a fresh one; close leaves no container', () => {
    assert.equal(outcomes.timeout.timedOut, true);
    assert.match(outcomes.timeout.output, /slow/);
    assert.equal(afterTimeout.exists, false, 'the timed-out container is gone');
    assert.equal(outcomes.again.exitCode, 0);
    assert.match(outcomes.again.output, /fresh/);
    assert.equal(started.length, 2, 'one container for the first three steps, a fresh one after the timeout');
    assert.deepEqual(leftAfterClose.map((c) => c.Id), []);
  });

  it('an abort during a step kills it at once and removes its container', () => {
    assert.equal(outcomes.aborted.aborted, true);
    assert.equal(outcomes.aborted.exitCode, null);
    assert.ok(outcomes.aborted.durationMs < 10_000, `the abort took ${outcomes.aborted.durationMs} ms`);
    assert.equal(afterAbort.exists, false, 'the aborted step\'s container is gone');
  });
});
