import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { readHistory } from '../../../src/core/history/history';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git, replayDir } from './helpers';

const HISTORY = 'logs/autopilot/history.jsonl';

/** The evidence run a history line names, checked: it exists, validates, its manifest says `status`, and git does not track it. */
function evidenceOf(repo: string, runId: string, status: string): { dir: string; rel: string; readme: string; errorLog: string } {
  const line = readHistory(path.join(repo, HISTORY)).records.find((r) => r.runId === runId);
  assert.equal(line?.status, status);
  assert.equal(line?.evidence, `logs/evidence/${runId}/`, `the ${status} history line names its evidence run`);
  const dir = path.join(repo, line.evidence);
  const check = validateEvidence(dir);
  assert.ok(check.valid, check.problems.map((p) => p.message).join('; '));
  assert.equal(check.manifest?.status, status, 'the manifest is marked with the verdict');
  assert.equal(git(repo, 'ls-files', '--', line.evidence).trim(), '', 'the evidence of a run that did not PASS is never committed');
  return { dir, rel: line.evidence, readme: fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), errorLog: fs.readFileSync(path.join(dir, 'error.log'), 'utf8') };
}

/** Issue 17 item 5: FAIL, BLOCKED and ABORT cycles leave evidence too, marked with their verdict, so a person can see why. */
describe('evidence of cycles that did not PASS (real engine, replay agent)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('a scope-violating Worker FAILs: an evidence run marked FAIL names the violation in error.log and README, keeps result.json and changes.json, validates (also by `factory evidence-check`), and the history line names it', async () => {
    const repo = exampleRepo();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const o = await runCycle({ root: repo, ticket: 'D202', agent: 'replay', replayDir: REPLAYS });
    assert.equal(o.status, 'FAIL', o.reasons.join('; '));
    assert.equal(o.evidencePath, `logs/evidence/${o.runId}/`);
    const ev = evidenceOf(repo, o.runId, 'FAIL');
    assert.match(ev.errorLog, /^Reason: .*engine\/__init__\.py \(out-of-scope\)/m);
    assert.match(ev.readme, /^- engine\/__init__\.py \(out-of-scope\)$/m);
    assert.match(ev.readme, /The cycle ended \*\*FAIL\*\*/);
    assert.ok(o.stagingKept);
    assert.ok(ev.readme.includes(`kept for inspection at \`${o.stagingKept}\``), 'README says where the kept staging copy is');
    const changes = JSON.parse(fs.readFileSync(path.join(ev.dir, 'changes.json'), 'utf8')) as { changes: { path: string }[]; violations: { path: string; rule: string }[] };
    assert.deepEqual(changes.violations, [{ path: 'engine/__init__.py', rule: 'out-of-scope' }]);
    assert.ok(changes.changes.some((c) => c.path === 'engine/slippage.py'));
    assert.ok(fs.statSync(path.join(ev.dir, 'result.json')).isFile(), "the Worker's result.json");
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'no commit');
    assert.ok(!fs.existsSync(path.join(repo, 'engine/slippage.py')), 'nothing applied');
    const checked = await cli(['evidence-check', '--root', repo, o.runId]);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`${o.runId}: VALID`));
  });

  it('the retry cap: each FAIL and the BLOCKED attempt leave their own evidence; the BLOCKED one says why, with the Gate failure and the Auditor, and the BLOCKED commit does not take it', async () => {
    const repo = exampleRepo();
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(await runCycle({ root: repo, ticket: 'D301', agent: 'replay', replayDir: REPLAYS }));
    assert.deepEqual(outs.map((o) => o.status), ['FAIL', 'FAIL', 'BLOCKED']);
    const [first, second, blocked] = outs.map((o, i) => evidenceOf(repo, o.runId, i < 2 ? 'FAIL' : 'BLOCKED'));
    for (const ev of [first, second, blocked]) assert.match(ev?.errorLog ?? '', /^Failed step: stage fast/m);
    assert.match(blocked?.errorLog ?? '', /^Reason: ticket D301 set BLOCKED: retry cap: 3 failed attempts \(cap 3\)$/m);
    assert.match(blocked?.readme ?? '', /The cycle ended \*\*BLOCKED\*\*/);
    assert.match(blocked?.readme ?? '', /The attempt itself counts as FAIL; a kill switch then made the cycle BLOCKED/);
    assert.match(blocked?.readme ?? '', /^- ticket D301 set BLOCKED: retry cap: 3 failed attempts \(cap 3\)/m);
    assert.match(blocked?.readme ?? '', /Auditor: FAIL/);
    assert.ok(fs.statSync(path.join(blocked?.dir ?? '', 'audit.json')).isFile());
    assert.match(git(repo, 'log', '-1', '--format=%s'), /^factory: D301 BLOCKED/);
    const committed = git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n');
    assert.ok(committed.includes(HISTORY), 'the history line (naming the evidence) is committed');
    assert.ok(!committed.some((f) => f.startsWith('logs/evidence/')), 'the BLOCKED evidence is not');
  });

  it('a cycle cancelled while its Worker runs is ABORTED: an evidence run marked ABORTED with the phase and the reason, named by the history line', async () => {
    const repo = exampleRepo();
    const replays = replayDir({ 'D201.json': { steps: [{ op: 'sleep', ms: 120_000 }] } });
    const stop = new AbortController();
    let runId = '';
    const onEvent = (e: CycleEvent) => {
      if (e.type === 'phase' && e.phase === 'DO') {
        runId = e.runId;
        setTimeout(() => stop.abort(), 3_000);
      }
    };
    await assert.rejects(runCycle({ root: repo, ticket: 'D201', agent: 'replay', replayDir: replays }, { onEvent, signal: stop.signal }), /interrupt|abort|cancel/i);
    assert.ok(runId);
    const ev = evidenceOf(repo, runId, 'ABORTED');
    assert.match(ev.readme, /The cycle was \*\*ABORTED\*\* during (DO|CHECK)/);
    assert.match(ev.errorLog, /^Reason: interrupted during (DO|CHECK)$/m);
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/cycle_state.json')), false);
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests').trim(), '', 'nothing applied');
  });
});
