import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planSchema } from '../../../src/core/contracts/plan';
import { readHistory } from '../../../src/core/history/history';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, containersOf, exampleRepo, git, replayDir, sleep, treeDigest } from './helpers';

/** The cycle commands as a user runs them: the built CLI as a process, on a git copy of the example. */
describe('factory plan | dry | next | run | tail | audit | stop (CLI processes, real engine)', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('plan writes plan.json (valid against the contract) and prints it; dry writes and starts nothing', async () => {
    const repo = exampleRepo();
    const before = treeDigest(repo, ['.git']);
    const dry = await cli(['dry', '--root', repo, '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const d = JSON.parse(dry.stdout);
    assert.equal(d.plan.ticket_id, 'D201');
    assert.deepEqual(d.plan.scope.modify, ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.ok(d.plan.scope.forbidden.includes('docs/v2/design/AC_LEDGER.md'));
    assert.equal(d.worker.network, 'none');
    assert.equal(d.worker.limits.memoryMb, 1024);
    assert.deepEqual(d.gate.stages.map((s: { name: string }) => s.name), ['doctor', 'fast', 'regression']);
    assert.deepEqual(d.gate.guards.map((s: { name: string }) => s.name), ['Welding', 'Engine-Centric']);
    assert.ok(d.worker.mounts.some((m: { container: string; mode: string }) => m.container === '/factory/gateway' && m.mode === 'ro'));
    assert.equal(treeDigest(repo, ['.git']), before, 'dry wrote nothing');
    assert.deepEqual(containersOf(d.plan.run_id), [], 'dry started nothing');
    const human = await cli(['dry', '--root', repo]);
    assert.match(human.stdout, /^DRY RUN/);
    assert.match(human.stdout, /stage fast: python3 -m pytest -q -x -m "not slow"/);

    const plan = await cli(['plan', '--root', repo, '--ticket', 'D301', '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const printed = JSON.parse(plan.stdout);
    const written = JSON.parse(fs.readFileSync(path.join(repo, 'logs/autopilot/plan.json'), 'utf8'));
    assert.deepEqual(written, printed);
    assert.deepEqual(planSchema.parse(written), written);
    assert.deepEqual(written.ac_ids, ['D301::AC-1', 'D301::AC-2', 'D301::AC-3']);
    assert.match(written.done_criteria, /pnl_breakdown\.json/);
    const unknown = await cli(['plan', '--root', repo, '--ticket', 'NOPE']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown ticket NOPE/);
  });

  it('next and run --json: per cycle runId, ticketId, acIds, status, costUsd, evidencePath, commit; tail shows the cycles; audit judges the commit', async () => {
    const repo = exampleRepo();
    const next = JSON.parse((await cli(['next', '--root', repo, '--json'])).stdout);
    assert.equal(next.next.ticketId, 'D201');
    assert.deepEqual(next.next.acs.map((a: { id: string }) => a.id), ['D201::AC-2', 'D201::AC-3']);
    const run = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', REPLAYS, '--max-cycles', '2', '--json']);
    assert.equal(run.code, 1, run.stderr); // the second cycle (D202) FAILs
    const cycles = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(cycles.length, 2);
    for (const c of cycles) for (const k of ['runId', 'ticketId', 'acIds', 'status', 'costUsd', 'evidencePath', 'commit']) assert.ok(k in c, `${k} in ${JSON.stringify(c)}`);
    assert.deepEqual(cycles.map((c) => [c.ticketId, c.status]), [['D201', 'PASS'], ['D202', 'FAIL']]);
    assert.equal(cycles[0].commit, git(repo, 'rev-parse', 'HEAD').trim());
    assert.equal(cycles[1].commit, null);
    assert.equal(cycles[1].evidencePath, `logs/evidence/${cycles[1].runId}/`, 'the FAIL leaves its own (uncommitted) evidence run');

    const tail = await cli(['tail', '--root', repo, '--json']);
    assert.deepEqual(tail.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((c) => [c.type, c.runId, c.status]), cycles.map((c) => ['cycle', c.runId, c.status]));
    const next2 = JSON.parse((await cli(['next', '--root', repo, '--json'])).stdout);
    assert.equal(next2.next.ticketId, 'D202');
    assert.equal(next2.next.attempts, 1);

    const pass = await cli(['audit', 'D201', '--root', repo, '--replay', REPLAYS, '--json']);
    assert.equal(pass.code, 0, pass.stderr);
    assert.equal(JSON.parse(pass.stdout).verdict, 'PASS');
    const fail = replayDir({ 'D201.audit.json': { steps: [{ op: 'write', path: '/factory/out/audit_report.json', content: JSON.stringify({ ticket_id: 'D201', verdict: 'FAIL', violations: [{ file: 'engine/pricing.py', line: 20, rule: 'R1' }], model: 'm', cost_usd: 0 }) }] } });
    const bad = await cli(['audit', 'D201', '--root', repo, '--replay', fail]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /Auditor: FAIL/);
    assert.match(bad.stdout, /engine\/pricing\.py:20 {2}R1/);
    const none = await cli(['audit', 'D302', '--root', repo]);
    assert.equal(none.code, 2);
  });

  it('stop: the Controller aborts the cycle in flight, records it ABORTED and leaves no container', async () => {
    const repo = exampleRepo();
    const replays = replayDir({ 'D201.json': { steps: [{ op: 'sleep', ms: 120_000 }] } });
    const running = cli(['run', '--root', repo, '--agent', 'replay', '--replay', replays, '--json']);
    const stateFile = path.join(repo, 'logs/autopilot/cycle_state.json');
    let runId = '';
    for (let i = 0; i < 150 && !runId; i++) {
      await sleep(200);
      try {
        const st = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
        if (st.phase === 'DO' && st.stagingDir && containersOf(st.runId).length) runId = st.runId;
      } catch {
        // not yet
      }
    }
    assert.ok(runId, 'the cycle reached DO with its container');
    const stop = await cli(['stop', '--root', repo, '--json']);
    assert.equal(stop.code, 0, stop.stderr);
    const s = JSON.parse(stop.stdout);
    assert.equal(s.runId, runId);
    assert.equal(s.signalled, true);
    assert.equal(s.finished, true);
    const r = await running;
    assert.notEqual(r.code, 0);
    assert.deepEqual(containersOf(runId), []);
    assert.equal(readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1)?.status, 'ABORTED');
    assert.equal(fs.existsSync(stateFile), false);
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests').trim(), '');
  });
});
