import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle, type BaselineReport, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { FactoryError } from '../../../src/core/util/errors';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git } from './helpers';

/** A test HEAD already fails: the Gate's `fast` stage (pytest -x) stops at it with 1 failed test. */
const BROKEN = 'def test_broken_on_head():\n    assert 1 == 2, "HEAD was red before any Worker"\n';

/** The example with a failing test committed: a red HEAD. */
function redRepo(): string {
  const repo = exampleRepo();
  fs.writeFileSync(path.join(repo, 'tests/test_broken.py'), BROKEN);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'a test that fails on HEAD');
  return repo;
}

/** Containers of this repository (label factory.repo) created since `since`, by role (docker events: removed ones too). */
function rolesCreated(repo: string, since: Date): string[] {
  const args = ['events', '--since', String(Math.floor(since.getTime() / 1000) - 1), '--until', String(Math.ceil(Date.now() / 1000) + 1)];
  const filters = ['type=container', 'event=create', `label=factory.repo=${fs.realpathSync(repo)}`].flatMap((f) => ['--filter', f]);
  const out = execFileSync('docker', [...args, ...filters, '--format', '{{index .Actor.Attributes "factory.role"}}'], { encoding: 'utf8', timeout: 30_000 });
  return out.split('\n').filter(Boolean);
}

describe('baseline first (spec §8-3): Gate and DocOps on HEAD before the first cycle (real engine, replay agent)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('a red HEAD refuses the cycle with baseline-red: no Worker container, nothing spent or recorded', async () => {
    const repo = redRepo();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const since = new Date();
    const events: CycleEvent[] = [];
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { onEvent: (e) => events.push(e) }),
      (e: unknown) => e instanceof FactoryError && e.code === 'baseline-red' && e.exitCode === 1 && e.message === `baseline red: fast (gate, 1 failed) failing on HEAD ${head.slice(0, 7)} before any change; fix HEAD or pass --accept-red-baseline`,
    );
    const baseline = events.find((e): e is Extract<CycleEvent, { type: 'baseline' }> => e.type === 'baseline')?.report;
    assert.ok(baseline, 'the baseline was announced');
    assert.equal(baseline.status, 'red');
    assert.equal(baseline.commit, head);
    assert.equal(baseline.tree, git(repo, 'rev-parse', 'HEAD^{tree}').trim());
    assert.deepEqual(baseline.failing, [{ kind: 'gate', name: 'fast', failed: 1 }]);
    assert.equal(baseline.accepted, false);
    assert.ok(!events.some((e) => e.type === 'phase' || e.type === 'plan' || e.type === 'spend'), 'no phase began, no plan was published, nothing was spent');
    const roles = rolesCreated(repo, since);
    assert.ok(roles.length > 0 && roles.every((r) => r !== 'worker' && r !== 'auditor'), `only the baseline's Gate containers ran: ${roles.join(', ')}`);
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/history.jsonl')), false, 'no history line: no cycle happened');
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/plan.json')), false);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head);
  });

  it('--accept-red-baseline: the cycle runs, outcome.baseline says accepted, and the failure HEAD already had is not the Worker\'s', async () => {
    const repo = redRepo();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201', acceptRedBaseline: true });
    const b: BaselineReport | undefined = o.baseline;
    assert.ok(b);
    assert.equal(b.status, 'red');
    assert.equal(b.accepted, true);
    assert.deepEqual(b.failing, [{ kind: 'gate', name: 'fast', failed: 1 }]);
    // The Worker's Gate fails at the same stage with no more failed tests: reported, not held against it.
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.ok(o.reasons.some((r) => /^pre-existing: Gate fast fails on HEAD too \(1 failed; 1 on HEAD\)/.test(r)), o.reasons.join('; '));
    assert.ok(o.commit);
  });

  it('a green baseline is served from the gate cache on the next run on the same HEAD; a later cycle of a run skips it', async () => {
    const repo = exampleRepo();
    // D202's recording writes outside its scope: a FAIL, so HEAD stays where it is (its records do not dirty the tree).
    const first = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D202' });
    assert.equal(first.status, 'FAIL');
    assert.equal(first.baseline?.status, 'green');
    assert.equal(first.baseline?.cached, false);
    const second = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D202' });
    assert.equal(second.baseline?.status, 'green');
    assert.equal(second.baseline?.cached, true, 'same tree, same Gate: the cached PASS');
    assert.equal(second.baseline?.tree, first.baseline?.tree);
    const skipped = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201', baseline: 'skip' });
    assert.equal(skipped.status, 'PASS', skipped.reasons.join('; '));
    assert.equal(skipped.baseline, undefined);
  });

  it('factory run: a red baseline exits 1 with the reason; --accept-red-baseline runs the cycle and prints the baseline', async () => {
    const repo = redRepo();
    const refused = await cli(['run', '--root', repo, '--ticket', 'D201', '--agent', 'replay', '--replay', REPLAYS]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /baseline red: fast \(gate, 1 failed\) failing on HEAD [0-9a-f]{7} before any change; fix HEAD or pass --accept-red-baseline/);
    const run = await cli(['run', '--root', repo, '--ticket', 'D201', '--agent', 'replay', '--replay', REPLAYS, '--accept-red-baseline', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const line = JSON.parse(run.stdout.trim().split('\n')[0]) as { status: string; baseline?: BaselineReport };
    assert.equal(line.status, 'PASS');
    assert.equal(line.baseline?.accepted, true);
  });
});
