import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import type { Recovery } from '../../../src/core/cycle/recover';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { parseRoadmap } from '../../../src/core/ssot/roadmap';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, containersOf, exampleRepo, git } from './helpers';
import { stagingDirsOf } from '../../support/staging';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const count = (text: string, needle: string) => text.split(needle).length - 1;
/** The ledger status of D201's ACs (the cycle's work in the example). */
const d201Statuses = (ledger: string) => parseLedger(ledger, LEDGER).acs.filter((a) => a.ticketId === 'D201').map((a) => `${a.id} ${a.status}`);
/** Kill points after the cycle marked its ACs IN_PROGRESS (spec §8-3) and before ADJUST writes DONE over them. */
const MARKED = new Set(['PLAN:marked', 'DO:running', 'CHECK', 'ADJUST', 'ADJUST:applied']);

/**
 * SECURITY 7 and the crash test: the real CLI is SIGKILLed at each phase boundary
 * (FACTORY_FAULT_KILL_AT), then a Controller starts again on the same repository.
 */
describe('crash and restart: SIGKILL of the CLI at each phase boundary (real engine)', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  const points: { at: string; expect: Recovery['result'] }[] = [
    { at: 'PLAN', expect: 'aborted' },
    { at: 'PLAN:marked', expect: 'aborted' },
    { at: 'DO:running', expect: 'aborted' },
    { at: 'CHECK', expect: 'aborted' },
    { at: 'ADJUST', expect: 'aborted' },
    { at: 'ADJUST:applied', expect: 'aborted' },
    { at: 'ADJUST:documents', expect: 'aborted' },
    { at: 'ADJUST:recorded', expect: 'aborted' },
    { at: 'ADJUST:committed', expect: 'completed' },
  ];

  for (const { at, expect } of points) {
    it(`SEC-07 killed at ${at}: the restart leaves no labelled container, no half-written document, no duplicate apply; the cycle ends ${expect === 'completed' ? 'completed' : 'ABORTED'}`, async () => {
      const repo = exampleRepo();
      const ledger0 = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
      const r = await cli(['run', '--root', repo, '--agent', 'replay', '--replay', REPLAYS, '--json'], { FACTORY_FAULT_KILL_AT: at });
      assert.equal(r.signal, 'SIGKILL', `the CLI was not killed at ${at}: exit ${r.code}\n${r.stderr}`);
      const state = JSON.parse(fs.readFileSync(path.join(repo, 'logs/autopilot/cycle_state.json'), 'utf8')) as { runId: string; phase: string };
      const crashed = state.runId;
      if (at === 'DO:running') assert.ok(containersOf(crashed).length >= 1, 'the Worker container outlived its Controller (an orphan to reap)');

      // Whatever instant the kill hit, every document is whole (atomic writes) and keeps its ACs.
      const ledger = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
      assert.deepEqual(parseLedger(ledger, LEDGER).acs.map((a) => a.id), parseLedger(ledger0, LEDGER).acs.map((a) => a.id));
      assert.equal(parseRoadmap(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), 'D_ROADMAP.md').tickets.length, 6);
      if (MARKED.has(at)) {
        assert.deepEqual(d201Statuses(ledger), ['D201::AC-1 DONE', 'D201::AC-2 IN_PROGRESS', 'D201::AC-3 IN_PROGRESS'], 'the killed cycle had marked its open ACs IN_PROGRESS');
      }
      assert.deepEqual(readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).problems, []);

      // The dead Controller's lock is taken over at once (SEC-27): no waiting for it to go stale.
      let recovery: Recovery | undefined;
      let recoveredLedger: string | undefined;
      const onEvent = (e: CycleEvent) => {
        if (e.type !== 'recovered') return;
        recovery = e.recovery;
        // The ledger as recovery left it, before the new cycle marks and works the ticket again.
        recoveredLedger = fs.readFileSync(path.join(repo, LEDGER), 'utf8');
      };
      const logged: string[] = [];
      const log = (m: unknown) => void logged.push(String(m));
      const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { onEvent, logger: { trace: log, debug: log, info: log, warn: log, error: log } });
      assert.match(logged.join('\n'), /took over the repo lock .*is gone \(process \d+ no longer exists\)/, 'the default 30 s stale time was not waited for');
      assert.equal(recovery?.interrupted?.runId, crashed);
      assert.deepEqual(recovery?.cycles.map((c) => c.runId), [crashed]);
      assert.equal(recovery?.result, expect);
      assert.deepEqual(containersOf(crashed), [], 'no container of the crashed run is left');
      assert.deepEqual(stagingDirsOf(crashed), [], 'its staging copy is gone');

      const history = readHistory(path.join(repo, 'logs/autopilot/history.jsonl'));
      assert.deepEqual(history.problems, []);
      const lines = history.records.filter((x) => x.runId === crashed);
      assert.equal(lines.length, 1, 'exactly one history line for the crashed run');
      const pricing = fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8');
      const tests = fs.readFileSync(path.join(repo, 'tests/test_pricing.py'), 'utf8');
      const d201Commits = git(repo, 'log', '--format=%s').split('\n').filter((s) => /^factory: D201 PASS/.test(s));
      if (expect === 'completed') {
        assert.equal(lines[0]?.status, 'PASS');
        assert.equal(o.ticketId, 'D202', 'the restart moved on to the next ticket');
      } else {
        assert.equal(lines[0]?.status, 'ABORTED');
        // Recovery put back every cell the cycle had marked: the ledger is the one PLAN found, byte for byte.
        assert.equal(recoveredLedger, ledger0, 'the ledger after recovery is byte-identical to the one before the crashed run');
        assert.equal(o.ticketId, 'D201', 'the interrupted ticket is worked again');
        assert.equal(o.status, 'PASS', o.reasons.join('; '));
        // The half-made PASS evidence run is removed; the ABORT leaves its own evidence run there (issue 17 item 5).
        assert.equal(lines[0]?.evidence, `logs/evidence/${crashed}/`, 'the ABORTED line names its evidence run');
        const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'logs/evidence', crashed, 'manifest.json'), 'utf8')) as { status: string };
        assert.equal(manifest.status, 'ABORTED', 'the run folder is the ABORTED evidence, not a half-made PASS');
      }
      assert.equal(d201Commits.length, 1, 'D201 committed exactly once');
      assert.equal(count(pricing, 'MAX_SPREAD_BPS = 20_000'), 1, 'the change is applied once');
      assert.equal(count(tests, 'def test_negative_spread_is_rejected'), 1);
      assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/cycle_state.json')), false);
      assert.equal(git(repo, 'status', '--porcelain', '--', 'engine', 'tests', LEDGER, 'D_ROADMAP.md').trim(), '');
    });
  }
});
