import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { cycleRecords } from '../../../src/core/cycle/cycle-paths';
import { listCycleStates } from '../../../src/core/cycle/cycle-state';
import type { CompareCandidate, CycleEvent, CycleOutcome } from '../../../src/core/cycle/cycle-types';
import { evaluateKillSwitches } from '../../../src/core/cycle/kill-switches';
import { runFactory } from '../../../src/core/cycle/parallel/run-factory';
import type { FactoryRunResult } from '../../../src/core/cycle/parallel/factory-types';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git, replayDir } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const HISTORY = 'logs/autopilot/history.jsonl';
/** Side a's extra lines: a passing but longer changeset, so `--pick auto` (equal cost) takes side b's. */
const A_MARK = 'side a was here';

const shipped = (name: string) => JSON.parse(fs.readFileSync(path.join(REPLAYS, name), 'utf8')) as { steps: Record<string, unknown>[] };

/** Recordings per side (`<dir>/a/`, `<dir>/b/`): D201 passes on both (a's with 6 more lines); D202 leaves its scope on both. */
function sideReplays(): string {
  const longer = shipped('D201.json');
  longer.steps.push({ op: 'append', path: 'tests/test_pricing.py', content: `\n\n# ${A_MARK}\n# (a longer changeset\n# that passes just the same)\n` });
  const dir = replayDir({});
  for (const [side, d201] of [['a', longer], ['b', shipped('D201.json')]] as const) {
    fs.mkdirSync(path.join(dir, side));
    fs.writeFileSync(path.join(dir, side, 'D201.json'), JSON.stringify(d201));
    fs.writeFileSync(path.join(dir, side, 'D202.json'), JSON.stringify(shipped('D202.json')));
  }
  return dir;
}

const statuses = (repo: string, ticket: string) => parseLedger(fs.readFileSync(path.join(repo, LEDGER), 'utf8'), LEDGER).acs.filter((a) => a.ticketId === ticket).map((a) => a.status);
const manifest = (repo: string, runId: string) => JSON.parse(fs.readFileSync(path.join(repo, 'logs/evidence', runId, 'manifest.json'), 'utf8')) as { status: string };
const tracked = (repo: string, p: string) => git(repo, 'ls-files', '--', p).trim() !== '';

/**
 * Issue 20 item 2 "Done when": a compare run of two replay agents (one replay agent on two routed
 * models, each side with its own recordings) on the example project — only the picked changeset
 * lands in the commit, both sides leave evidence, history has both lines and the kill switches
 * count one. Then a compare where neither side passes: one FAIL counted, nothing applied.
 */
describe('factory run --compare (issue 20 item 2, real engine)', function () {
  this.timeout(900_000);
  let repo: string;
  let replays: string;

  before(function () {
    requireDocker(this);
    build();
    repo = exampleRepo();
    replays = sideReplays();
  });
  after(cleanup);

  describe('D201 on replay:gpt-5-mini (a) and replay:claude-sonnet-4-5 (b), --pick auto', () => {
    let r: FactoryRunResult;
    const events: CycleEvent[] = [];
    let head0: string;

    before(async () => {
      head0 = git(repo, 'rev-parse', 'HEAD').trim();
      r = await runFactory({ root: repo, ticket: 'D201', parallel: 1, maxCycles: 1, replayDir: replays, compare: { agents: ['replay:gpt-5-mini', 'replay:claude-sonnet-4-5'], pick: 'auto' } }, { onEvent: (e) => void events.push(e) });
    });

    it('both sides ran the one plan on their own run id and model, side by side', () => {
      const plans = events.flatMap((e) => (e.type === 'plan' ? [e.plan] : []));
      assert.equal(plans.length, 2, 'one plan event per side');
      assert.deepEqual(plans.map((p) => [p.agent, p.model]), [['replay', 'gpt-5-mini'], ['replay', 'claude-sonnet-4-5']]);
      assert.notEqual(plans[0]?.run_id, plans[1]?.run_id);
      assert.deepEqual({ ...plans[0], run_id: '', model: '', model_budget: '', routing: null }, { ...plans[1], run_id: '', model: '', model_budget: '', routing: null }, 'the same plan but for the run id and the Worker');
      assert.match(plans[1]?.routing?.override ?? '', /--compare replay:gpt-5-mini,replay:claude-sonnet-4-5 \(side b\)/);
      for (const p of plans) {
        const phases = events.filter((e): e is Extract<CycleEvent, { type: 'phase' }> => e.type === 'phase' && e.runId === p.run_id).map((e) => e.phase);
        assert.deepEqual([...new Set(phases)], p === plans[0] ? ['PLAN', 'DO', 'CHECK'] : ['PLAN', 'DO', 'CHECK', 'ADJUST'], p.run_id);
      }
      // Both Workers were in DO before either reached CHECK.
      const at = (runId: string | undefined, phase: string) => events.findIndex((e) => e.type === 'phase' && e.runId === runId && e.phase === phase);
      assert.ok(Math.max(at(plans[0]?.run_id, 'DO'), at(plans[1]?.run_id, 'DO')) < Math.min(at(plans[0]?.run_id, 'CHECK'), at(plans[1]?.run_id, 'CHECK')), 'DO side by side');
    });

    it('both passed; auto picked b (equal cost, fewer diff lines); the compare event and outcome say so', () => {
      assert.equal(r.outcomes.length, 1);
      const o = r.outcomes[0];
      assert.equal(o.status, 'PASS', o.reasons.join('; '));
      const c = o.compare;
      assert.ok(c);
      assert.equal(c.picked, 1);
      assert.deepEqual(c.candidates.map((x) => [x.agent, x.model, x.passed, x.gate]), [['replay', 'gpt-5-mini', true, 'PASS'], ['replay', 'claude-sonnet-4-5', true, 'PASS']]);
      assert.equal(c.candidates[0].diffLines, c.candidates[1].diffLines + 5, 'a added 5 more lines');
      assert.ok(c.candidates[1].diffLines > 10, `b's diff: ${c.candidates[1].diffLines} lines`);
      assert.equal(o.runId, c.candidates[1].runId);
      const ev = events.find((e): e is Extract<CycleEvent, { type: 'compare' }> => e.type === 'compare');
      assert.deepEqual(ev?.picked, 1);
      assert.match(r.message, /full cycle budget/);
      assert.equal(events.filter((e) => e.type === 'end').length, 2, 'an end event per side');
    });

    it('only b\'s changeset is committed; the ledger says DONE', () => {
      const o = r.outcomes[0];
      assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
      assert.equal(git(repo, 'rev-parse', 'HEAD~1').trim(), head0, 'one commit');
      assert.match(git(repo, 'log', '-1', '--format=%B'), new RegExp(`^factory: D201 PASS[\\s\\S]*Factory-Run: ${o.runId}`));
      const committed = git(repo, 'show', 'HEAD:tests/test_pricing.py');
      assert.match(committed, /test_negative_spread_is_rejected/);
      assert.ok(!committed.includes(A_MARK), 'side a\'s lines are not in the commit');
      assert.ok(!fs.readFileSync(path.join(repo, 'tests/test_pricing.py'), 'utf8').includes(A_MARK), 'nor on the host');
      assert.deepEqual(statuses(repo, 'D201'), ['DONE', 'DONE', 'DONE']);
      assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=no').trim(), '', 'nothing else changed in tracked files');
      assert.deepEqual(listCycleStates(repo, 'logs/autopilot'), [], 'no state left for either side');
    });

    it('both sides leave evidence: b\'s PASS committed, a\'s FAIL "not picked", uncommitted', () => {
      const [a, b] = r.outcomes[0].compare!.candidates.map((x) => x.runId);
      assert.equal(manifest(repo, b).status, 'PASS');
      assert.ok(tracked(repo, `logs/evidence/${b}/manifest.json`));
      assert.equal(manifest(repo, a).status, 'FAIL');
      assert.ok(!tracked(repo, `logs/evidence/${a}`), 'a\'s evidence is never committed');
      assert.match(fs.readFileSync(path.join(repo, 'logs/evidence', a, 'README.md'), 'utf8'), new RegExp(`not picked \\(compare with ${b}\\)`));
    });

    it('history: a line per side, a\'s marked not picked; the kill switches see no attempt', async () => {
      const [a, b] = r.outcomes[0].compare!.candidates.map((x) => x.runId);
      const lines = readHistory(path.join(repo, HISTORY)).records.filter((l) => l.ticketId === 'D201');
      assert.deepEqual(lines.map((l) => [l.runId, l.status, l.compare ?? null]), [[a, 'FAIL', { picked: false, with: b }], [b, 'PASS', null]]);
      const config = (await loadConfigStrict(repo)).config;
      assert.equal(evaluateKillSwitches(cycleRecords(path.join(repo, HISTORY)), 'D201', config).attempts, 0);
    });
  });

  describe('D202 where neither side passes (both leave the scope): the CLI, --pick auto --json', () => {
    let o: CycleOutcome;
    let run: Awaited<ReturnType<typeof cli>>;
    let head0: string;
    let d202: string[];

    before(async () => {
      head0 = git(repo, 'rev-parse', 'HEAD').trim();
      d202 = statuses(repo, 'D202');
      run = await cli(['run', '--root', repo, '--ticket', 'D202', '--compare', 'replay:gpt-5-mini,replay:claude-sonnet-4-5', '--pick', 'auto', '--replay', replays, '--json']);
      const lines = run.stdout.trim().split('\n');
      assert.equal(lines.length, 1, `one JSON line for the compare:\n${run.stdout}\n${run.stderr}`);
      o = JSON.parse(lines[0]) as CycleOutcome;
    });

    it('the cycle FAILs once with both sides\' reasons (exit 1); nothing applied', () => {
      assert.equal(run.code, 1, run.stderr);
      assert.equal(o.status, 'FAIL');
      assert.equal(o.compare?.picked, null);
      assert.equal(o.runId, o.compare?.candidates[0]?.runId, 'side a\'s line is the one that counts');
      assert.equal(o.reasons[0], 'no candidate of the compare passed');
      assert.ok(o.reasons.some((x) => /^a \(replay gpt-5-mini, .*engine\/__init__\.py/.test(x)) && o.reasons.some((x) => /^b \(replay claude-sonnet-4-5, .*engine\/__init__\.py/.test(x)), o.reasons.join('\n'));
      assert.deepEqual(o.compare?.candidates.map((c) => [c.passed, c.gate]), [[false, 'not run'], [false, 'not run']]);
      assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head0);
      assert.ok(d202.length > 0);
      assert.deepEqual(statuses(repo, 'D202'), d202, 'the IN_PROGRESS marks are put back');
      // The Controller's own records (history, cost summary, plan.json) change on a FAIL too, uncommitted.
      assert.equal(git(repo, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!logs/autopilot').trim(), '');
    });

    it('refused before anything starts: --pick ask without a terminal, an unknown agent, --parallel 2 (exit 2)', async () => {
      const lines = readHistory(path.join(repo, HISTORY)).records.length;
      const ask = await cli(['run', '--root', repo, '--ticket', 'D202', '--compare', 'replay:gpt-5-mini,replay:claude-sonnet-4-5', '--replay', replays]);
      assert.equal(ask.code, 2);
      assert.match(ask.stderr, /pass --pick auto/);
      const unknown = await cli(['run', '--root', repo, '--compare', 'replay,claud', '--pick', 'auto']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown agent 'claud'/);
      const parallel = await cli(['run', '--root', repo, '--compare', 'replay:a,replay:b', '--pick', 'auto', '--parallel', '2']);
      assert.equal(parallel.code, 2);
      assert.match(parallel.stderr, /--parallel/);
      assert.equal(readHistory(path.join(repo, HISTORY)).records.length, lines, 'no cycle ran');
    });

    it('two history lines, one counted by the kill switches', async () => {
      const [a, b] = o.compare!.candidates.map((x) => x.runId);
      const lines = readHistory(path.join(repo, HISTORY)).records.filter((l) => l.ticketId === 'D202');
      assert.deepEqual(lines.map((l) => [l.runId, l.status, l.compare ?? null]).sort(), [[a, 'FAIL', null], [b, 'FAIL', { picked: false, with: a }]].sort());
      const config = (await loadConfigStrict(repo)).config;
      assert.equal(evaluateKillSwitches(cycleRecords(path.join(repo, HISTORY)), 'D202', config).attempts, 1);
      assert.equal(manifest(repo, a).status, 'FAIL');
      assert.equal(manifest(repo, b).status, 'FAIL');
    });
  });
  describe('--pick ask: the person picks none of two passing sides', () => {
    it('FAIL "no candidate picked", counted once; nothing applied; the picker saw both candidates', async () => {
      const fresh = exampleRepo();
      const head0 = git(fresh, 'rev-parse', 'HEAD').trim();
      const seen: CompareCandidate[][] = [];
      const r = await runFactory({ root: fresh, ticket: 'D201', parallel: 1, maxCycles: 1, replayDir: replays, baseline: 'skip', compare: { agents: ['replay:gpt-5-mini', 'replay:claude-sonnet-4-5'], pick: 'ask' } }, { pickCandidate: (c) => (seen.push(c), Promise.resolve(null)) });
      const o = r.outcomes[0];
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0].map((c) => [c.model, c.passed, c.gate, c.changes.length > 0, fs.existsSync(c.workspace)]), [['gpt-5-mini', true, 'PASS', true, true], ['claude-sonnet-4-5', true, 'PASS', true, true]]);
      assert.equal(o.status, 'FAIL');
      assert.ok(o.reasons.includes('no candidate picked'), o.reasons.join('; '));
      assert.equal(o.compare?.picked, null);
      assert.equal(git(fresh, 'rev-parse', 'HEAD').trim(), head0, 'no commit');
      assert.ok(!fs.readFileSync(path.join(fresh, 'tests/test_pricing.py'), 'utf8').includes('test_negative_spread_is_rejected'), 'nothing applied');
      const config = (await loadConfigStrict(fresh)).config;
      const lines = readHistory(path.join(fresh, HISTORY)).records;
      assert.deepEqual(lines.map((l) => [l.status, l.compare?.picked ?? null]).sort(), [['FAIL', false], ['FAIL', null]].sort());
      assert.equal(evaluateKillSwitches(cycleRecords(path.join(fresh, HISTORY)), 'D201', config).attempts, 1);
    });
  });
});
