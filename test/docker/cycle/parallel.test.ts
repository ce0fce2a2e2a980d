import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listCycleStates } from '../../../src/core/cycle/cycle-state';
import type { CycleEvent } from '../../../src/core/cycle/cycle-types';
import { openRun } from '../../../src/core/cycle/orchestrator';
import { runFactory } from '../../../src/core/cycle/parallel/run-factory';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { requireDocker } from '../../support/engines';
import { CLI, EXAMPLE, REPLAYS, build, cleanup, git, replayDir, sleep } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const TICKETS = ['D201', 'D202', 'D301', 'D302'];

/** The shipped recordings, with D202's out-of-scope edit dropped and a D301 that passes: all four tickets can PASS. */
function passingReplays(): string {
  const files: Record<string, unknown> = {};
  for (const name of fs.readdirSync(REPLAYS)) files[name] = JSON.parse(fs.readFileSync(path.join(REPLAYS, name), 'utf8'));
  const d202 = files['D202.json'] as { steps: { path: string }[] };
  d202.steps = d202.steps.filter((s) => s.path !== 'engine/__init__.py');
  files['D301.json'] = {
    description: 'D301, passing: trades per UTC day',
    steps: [
      { op: 'write', path: 'engine/report.py', content: '"""Daily report (D301): trades per UTC day."""\nfrom collections import Counter\nfrom datetime import datetime, timezone\n\n\ndef trades_per_day(stamps):\n    return dict(Counter(datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d") for t in stamps))\n' },
      { op: 'write', path: 'tests/test_report.py', content: 'from engine.report import trades_per_day\n\n\ndef test_per_day():\n    # D301::AC-1, D301::AC-2, D301::AC-3\n    assert trades_per_day([0, 60, 86400]) == {"1970-01-01": 2, "1970-01-02": 1}\n' },
    ],
    finalText: 'trades_per_day() added',
  };
  // Whichever ticket the routing sends to the Auditor: it passes.
  for (const t of ['D201', 'D202', 'D301']) {
    const audit = JSON.parse(JSON.stringify(files['D302.audit.json'])) as { steps: { content: string }[] };
    audit.steps[0].content = audit.steps[0].content.replace('"D302"', `"${t}"`);
    files[`${t}.audit.json`] = audit;
  }
  return replayDir(files);
}

/**
 * The example as a fresh repository, D301 no profit ticket (its report here has no PnL), and
 * D302 reading engine/pricing.py — D201's file: D302 must wait for D201, the others run together.
 */
function parallelRepo(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-parallel-test-'));
  made.push(tmp);
  const repo = path.join(tmp, 'demo-project');
  fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (src) => !src.startsWith(REPLAYS) });
  const cfgFile = path.join(repo, '.factory', 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as { scope: { tickets: { ticket: string; readonly?: string[] }[] }; evidence: { profitTickets: string[] } };
  cfg.evidence.profitTickets = cfg.evidence.profitTickets.filter((t) => t !== 'D301');
  const d302 = cfg.scope.tickets.find((t) => t.ticket === 'D302');
  assert.ok(d302);
  d302.readonly = ['engine/pricing.py'];
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'example');
  return repo;
}
const made: string[] = [];

/** Ledger rows of the four tickets: id → status and LAST_COMMIT cell. */
function rows(repo: string): Map<string, { status: string; raw: string }> {
  const text = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
  const lines = text.split('\n');
  return new Map(parseLedger(text, LEDGER).acs.filter((a) => TICKETS.includes(a.ticketId)).map((a) => [a.id, { status: a.status, raw: lines[a.source.line - 1] ?? '' }] as const));
}

describe('factory run --parallel 4 (issue 18, real engine)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(() => {
    cleanup();
    for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('four tickets: disjoint ones together, D302 (reads D201’s file) after D201; one commit each in merge order, the Gate on the integrated tree when the base moved', async () => {
    const repo = parallelRepo();
    const events: CycleEvent[] = [];
    const r = await runFactory({ root: repo, parallel: 4, maxCycles: 8, agent: 'replay', replayDir: passingReplays() }, { onEvent: (e) => void events.push(e) });
    assert.deepEqual(r.outcomes.map((o) => `${o.ticketId} ${o.status}`).sort(), TICKETS.map((t) => `${t} PASS`), JSON.stringify(r.outcomes.map((o) => o.reasons)));
    assert.equal(r.stoppedBy, 'queue-empty');

    // One commit per ticket, in the order the cycles ended (= merge order).
    const subjects = git(repo, 'log', '--reverse', '--format=%s', 'HEAD~4..HEAD').trim().split('\n');
    assert.deepEqual(subjects.map((s) => /^factory: (D\d+) PASS/.exec(s)?.[1]), r.outcomes.map((o) => o.ticketId));
    assert.equal(git(repo, 'rev-list', '--count', 'HEAD').trim(), '5');

    // D302 waited behind D201's run and its cycle never overlapped D201's.
    const d201 = r.outcomes.find((o) => o.ticketId === 'D201')?.runId;
    const d302 = r.outcomes.find((o) => o.ticketId === 'D302')?.runId;
    const waiting = events.find((e): e is Extract<CycleEvent, { type: 'waiting' }> => e.type === 'waiting' && e.ticketId === 'D302');
    assert.ok(waiting && d201 && d302, 'D302 waited');
    assert.deepEqual(waiting.behind, [d201]);
    assert.match(waiting.reason, /engine\/pricing\.py/);
    const at = (pred: (e: CycleEvent) => boolean) => events.findIndex(pred);
    const d201End = at((e) => e.type === 'end' && e.outcome.runId === d201);
    const d302First = at((e) => (e.type === 'phase' && e.runId === d302) || (e.type === 'plan' && e.plan.run_id === d302));
    assert.ok(d201End >= 0 && d302First > d201End, 'D302 started only after D201 ended');
    // The other three really ran side by side: each one's PLAN before any of them ended.
    const firstEnd = at((e) => e.type === 'end');
    for (const t of ['D201', 'D202', 'D301']) {
      const id = r.outcomes.find((o) => o.ticketId === t)?.runId;
      assert.ok(at((e) => e.type === 'phase' && e.runId === id && e.phase === 'DO') < firstEnd, `${t} was in DO before the first cycle ended`);
    }

    // Each commit sits on the one before; a cycle whose base had moved was integrated and gated first.
    for (const o of r.outcomes) {
      assert.ok(o.commit);
      const parent = git(repo, 'rev-parse', `${o.commit}^`).trim();
      const base = o.runId.slice(-7);
      const merged = events.filter((e): e is Extract<CycleEvent, { type: 'merge' }> => e.type === 'merge' && e.runId === o.runId).map((e) => e.step);
      assert.equal(merged[0], 'queued', `${o.ticketId} waits for the merge queue first`);
      assert.equal(merged.at(-1), 'committed', `${o.ticketId} ends committed`);
      if (parent.startsWith(base)) assert.deepEqual(merged, ['queued', 'committed'], `${o.ticketId} started on HEAD: no integration`);
      // Integrated while waiting (and again in the queue when another commit landed meanwhile).
      else assert.ok(merged.includes('gate') && merged.every((m) => ['queued', 'integrating', 'gate', 'committed'].includes(m)), `${o.ticketId} started on ${base}, committed on ${parent.slice(0, 7)}: ${merged.join(' → ')}`);
    }
    assert.ok(events.some((e) => e.type === 'merge' && e.step === 'gate'), 'at least one cycle was integrated onto a moved HEAD');

    // The ledger: every AC DONE, no mark left; no commit carried another cycle's IN_PROGRESS.
    for (const [id, row] of rows(repo)) assert.equal(row.status, 'DONE', id);
    for (const o of r.outcomes) assert.ok(!git(repo, 'show', `${o.commit ?? ''}:${LEDGER}`).includes('IN_PROGRESS'), `${o.ticketId}'s commit carries a mark`);
    assert.deepEqual(listCycleStates(repo, 'logs/autopilot'), []);
    const h = readHistory(path.join(repo, 'logs/autopilot/history.jsonl'));
    assert.deepEqual(h.problems, []);
    assert.deepEqual(h.records.map((x) => x.runId).sort(), r.outcomes.map((o) => o.runId).sort());
  });

  it('kill -9 of `factory run --parallel 4` while cycles are in flight, one in ADJUST: recovery leaves ledger and history consistent', async () => {
    const repo = parallelRepo();
    const before = rows(repo);
    const child = spawn(process.execPath, [CLI, 'run', '--root', repo, '--parallel', '4', '--max-cycles', '8', '--agent', 'replay', '--replay', passingReplays(), '--json'], {
      env: { ...process.env, FACTORY_FAULT_KILL_AT: 'ADJUST:applied' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
    assert.equal(signal, 'SIGKILL', stderr);
    const inFlight = listCycleStates(repo, 'logs/autopilot');
    assert.ok(inFlight.length >= 2, `cycles in flight at the kill: ${inFlight.map((s) => `${s.state.ticketId} ${s.state.phase}`).join(', ')}`);
    assert.deepEqual(inFlight.filter((s) => s.state.phase === 'ADJUST').length, 1);
    const crashed = inFlight.map((s) => s.state.runId);

    await sleep(1_000);
    // The recovery run: the lock of the dead Controller, every slot recovered.
    const session = await openRun({ root: repo, lockStaleMs: 2_000 });
    await session.close();

    assert.deepEqual(listCycleStates(repo, 'logs/autopilot'), [], 'no slot file left');
    const h = readHistory(path.join(repo, 'logs/autopilot/history.jsonl'));
    assert.deepEqual(h.problems, [], 'the hash chain is intact');
    const ids = h.records.map((x) => x.runId);
    assert.equal(new Set(ids).size, ids.length, 'one history line per run id');
    for (const id of crashed) assert.equal(h.records.find((x) => x.runId === id)?.status, 'ABORTED', `${id} recorded ABORTED once`);
    const commits = git(repo, 'log', '--format=%H %s').trim().split('\n');
    for (const [id, row] of rows(repo)) {
      if (row.status === 'DONE' && before.get(id)?.status !== 'DONE') {
        const ticket = id.split('::')[0];
        assert.equal(commits.filter((c) => c.includes(`factory: ${ticket} PASS`)).length, 1, `${id} DONE with exactly one commit`);
      } else assert.equal(row.raw, before.get(id)?.raw, `${id} back to its previous cell`);
    }
    assert.equal(git(repo, 'status', '--porcelain', '--', LEDGER, 'D_ROADMAP.md', 'engine', 'tests').trim(), '', 'no half-applied change on the host');
  });
});
