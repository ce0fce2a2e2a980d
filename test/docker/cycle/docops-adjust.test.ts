import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import type { Recovery } from '../../../src/core/cycle/recover';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import type { Logger } from '../../../src/core/util/log';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git, replayDir, sleep } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const ROADMAP = 'D_ROADMAP.md';
const TOKEN = 'DO-NOT-SHIP';
const HISTORY = 'logs/autopilot/history.jsonl';

/**
 * The example with a DocOps token rule that covers the engine's sources too (a forbidden token in
 * a docstring or comment is a document defect), committed, so `factory docops` and every run see it.
 */
function repoWithTokenRule(): string {
  const repo = exampleRepo();
  const file = path.join(repo, '.factory/config.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify({ ...raw, docops: { forbiddenTokens: [TOKEN], include: ['**/*.md', 'engine/**/*.py'], strict: true } }, null, 2) + '\n');
  git(repo, 'commit', '-q', '-am', `docops: ${TOKEN} is forbidden in documents and engine sources`);
  return repo;
}

/** D201's recorded change, plus a note the Worker leaves in engine/pricing.py: Gate-green, DocOps-red. */
function tokenReplays(): string {
  const recorded = JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8')) as { steps: unknown[] };
  const note = `\n\n# ${TOKEN}: the 20000 bps cap is a guess, confirm with the desk\n`;
  return replayDir({ 'D201.json': { ...recorded, steps: [...recorded.steps, { op: 'append', path: 'engine/pricing.py', content: note }] } });
}

const d201 = (ledger: string) => parseLedger(ledger, LEDGER).acs.filter((a) => a.ticketId === 'D201').map((a) => `${a.id} ${a.status}`);

/** Every log line, in order, with its level. */
function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (m: string | Error) => lines.push(`${level} ${String(m)}`);
  return { trace: () => undefined, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('DocOps on the adjusted documents before the commit (issue 17 item 3; real sandbox, Gate and DocOps)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it("FAIL: the Worker's change passes the Gate but DocOps fails on the adjusted tree → no commit, everything ADJUST wrote rolled back, FAIL naming the guard and the finding, the staging copy kept", async () => {
    const repo = repoWithTokenRule();
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    const before = { ledger: fs.readFileSync(path.join(repo, LEDGER), 'utf8'), roadmap: fs.readFileSync(path.join(repo, ROADMAP), 'utf8'), pricing: fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8') };
    const phases: string[] = [];
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: tokenReplays() }, { onEvent: (e: CycleEvent) => e.type === 'phase' && phases.push(e.phase) });

    assert.equal(o.status, 'FAIL', o.reasons.join('; '));
    assert.ok(phases.includes('ADJUST'), 'the verdict was PASS: ADJUST began');
    assert.deepEqual(o.docops && o.docops.status, 'FAIL');
    const reason = o.reasons.find((r) => r.startsWith('DocOps FAIL on the adjusted documents: '));
    assert.ok(reason, o.reasons.join('; '));
    assert.match(reason, new RegExp(`^DocOps FAIL on the adjusted documents: DocOps Token: engine/pricing\\.py:\\d+ forbidden token "${TOKEN}" at column 3$`));
    // No commit; the host is as the cycle found it.
    assert.equal(o.commit, null);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), base, 'HEAD unchanged');
    assert.equal(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), before.pricing, 'the changed file restored');
    assert.equal(fs.readFileSync(path.join(repo, LEDGER), 'utf8'), before.ledger, 'the ledger byte for byte as before (no DONE, no IN_PROGRESS)');
    assert.deepEqual(d201(fs.readFileSync(path.join(repo, LEDGER), 'utf8')), ['D201::AC-1 DONE', 'D201::AC-2 OPEN', 'D201::AC-3 OPEN']);
    assert.equal(fs.readFileSync(path.join(repo, ROADMAP), 'utf8'), before.roadmap);
    assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests', 'docs', ROADMAP).trim(), '', 'nothing left changed or staged');
    assert.equal(git(repo, 'diff', '--cached', '--name-only').trim(), '', 'nothing staged');
    // One history line: FAIL with the reason (counts toward the retry cap like any FAIL).
    const h = readHistory(path.join(repo, HISTORY));
    assert.deepEqual(h.problems, []);
    assert.deepEqual(h.records.map((r) => [r.runId, r.status]), [[o.runId, 'FAIL']]);
    assert.ok(h.records[0]?.reasons?.includes(reason));
    // The PASS evidence ADJUST had written is replaced by the FAIL's own, which says why.
    assert.equal(h.records[0]?.evidence, `logs/evidence/${o.runId}/`);
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'logs/evidence', o.runId, 'manifest.json'), 'utf8')) as { status: string };
    assert.equal(manifest.status, 'FAIL');
    assert.ok(fs.readFileSync(path.join(repo, 'logs/evidence', o.runId, 'README.md'), 'utf8').includes(reason), 'the FAIL evidence quotes the reason');
    // The staging copy is kept for inspection, with the Worker's change in it.
    assert.ok(o.stagingKept && fs.existsSync(o.stagingKept), `staging copy kept: ${o.stagingKept}`);
    assert.match(fs.readFileSync(path.join(o.stagingKept, 'workspace', 'engine/pricing.py'), 'utf8'), new RegExp(TOKEN));
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/cycle_state.json')), false, 'no cycle left in flight');

    // The next cycle, with a clean change, passes: the FAIL's records (its evidence quotes the
    // token) are not held against it, and DocOps is green on the adjusted documents.
    const next = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS });
    assert.equal(next.status, 'PASS', next.reasons.join('; '));
    assert.equal(next.docops?.status, 'PASS');
    assert.equal(git(repo, 'rev-list', '--count', `${base}..HEAD`).trim(), '1');
  });

  it('PASS: DocOps ran on the adjusted documents after the ledger was set DONE and before the history line and the commit', async () => {
    const repo = repoWithTokenRule();
    const lines: string[] = [];
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { logger: recordingLogger(lines) });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(o.docops?.status, 'PASS');
    assert.ok(typeof o.docops.durationMs === 'number' && o.docops.durationMs >= 0);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const documents = at(/cycle: ledger and roadmap /);
    const docops = at(/^info ADJUST: DocOps on the adjusted documents: PASS \(SSOT Docs (PASS|WARN), DocOps Token PASS; \d+ ms\)$/);
    const recorded = at(/cycle: evidence checked, history recorded /);
    const committed = at(/cycle: committed /);
    assert.ok(documents >= 0 && docops > documents && recorded > docops && committed > recorded, `order: documents ${documents}, DocOps ${docops}, recorded ${recorded}, committed ${committed}\n${lines.join('\n')}`);
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
  });

  // Killed once DocOps has failed (ADJUST's writes still on the host, the state in ADJUST with its
  // backups), and once they are rolled back (the state out of ADJUST): either way the restart leaves
  // the host as before and records the run ABORTED exactly once.
  const kills = [
    { at: 'ADJUST:docops', phase: 'ADJUST', rolledBack: false },
    { at: 'ADJUST:rolled-back', phase: 'CHECK', rolledBack: true },
  ];
  for (const k of kills) {
    it(`killed at ${k.at} of a DocOps FAIL: the restart restores the host and records the run ABORTED once`, async () => {
      const repo = repoWithTokenRule();
      const base = git(repo, 'rev-parse', 'HEAD').trim();
      const ledger0 = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
      const pricing0 = fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8');
      const replays = tokenReplays();
      const r = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', replays, '--json'], { FACTORY_FAULT_KILL_AT: k.at });
      assert.equal(r.signal, 'SIGKILL', `not killed at ${k.at}: exit ${r.code}\n${r.stderr}`);
      const state = JSON.parse(fs.readFileSync(path.join(repo, 'logs/autopilot/cycle_state.json'), 'utf8')) as { runId: string; phase: string; backups?: unknown; changes?: unknown };
      assert.equal(state.phase, k.phase);
      assert.equal(state.backups === undefined && state.changes === undefined, k.rolledBack, 'after the rollback nothing of ADJUST is left to roll back');
      const pricing = fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8');
      assert.equal(pricing === pricing0, k.rolledBack, k.rolledBack ? 'already rolled back when killed' : 'the change was still applied when killed');

      await sleep(4_000); // the dead holder's lock goes stale
      let recovery: Recovery | undefined;
      let recovered = { ledger: '', pricing: '' };
      const onEvent = (e: CycleEvent) => {
        if (e.type !== 'recovered') return;
        recovery = e.recovery;
        recovered = { ledger: fs.readFileSync(path.join(repo, LEDGER), 'utf8'), pricing: fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8') };
      };
      const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, lockStaleMs: 2_000 }, { onEvent });
      assert.equal(recovery?.interrupted?.runId, state.runId);
      assert.equal(recovery?.result, 'aborted');
      assert.equal(recovered.ledger, ledger0, 'the ledger as before the crashed run (no DONE, no IN_PROGRESS)');
      assert.equal(recovered.pricing, pricing0, 'the changed file restored');
      const h = readHistory(path.join(repo, HISTORY));
      assert.deepEqual(h.problems, []);
      assert.deepEqual(h.records.filter((x) => x.runId === state.runId).map((x) => x.status), ['ABORTED']);
      // The restart works the ticket again and meets the same DocOps FAIL: still no commit.
      assert.equal(o.ticketId, 'D201');
      assert.equal(o.status, 'FAIL', o.reasons.join('; '));
      assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), base);
      assert.equal(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), pricing0);
    });
  }
});
