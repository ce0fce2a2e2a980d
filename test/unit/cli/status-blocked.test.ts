import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectStatus, renderStatus } from '../../../src/cli/commands/status';
import { appendHistory } from '../../../src/core/history/history';
import { editDocument, setTicketStatus } from '../../../src/core/ssot/writer';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');
const RUN = '20261201_000002_d301_abcdef2';

/** `factory status` lists BLOCKED tickets with their reasons, in text and --json (issue 20). */
describe('factory status: the BLOCKED section', function () {
  this.timeout(60_000);
  let tmp: string;
  let root: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-status-blocked-'));
    root = path.join(tmp, 'demo');
    fs.cpSync(EXAMPLE, root, { recursive: true, filter: (s) => !s.includes(`${path.sep}replays`) });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('no BLOCKED ticket: an empty list and no section', async () => {
    const s = await collectStatus(root);
    assert.deepEqual(s.blocked, []);
    assert.ok(!/^Blocked/m.test(renderStatus(s)));
  });

  it('a BLOCKED ticket: its reason, last failure, evidence and the Auditor\'s verdict, in --json and in the text', async () => {
    const evidence = `logs/evidence/${RUN}`;
    fs.mkdirSync(path.join(root, evidence), { recursive: true });
    fs.writeFileSync(path.join(root, evidence, 'error.log'), 'Status: BLOCKED\nFailed step: stage fast (FAIL: 1 failed)\nFailed test: tests/test_report.py::test_net\n');
    await appendHistory(path.join(root, 'logs', 'autopilot', 'history.jsonl'), { runId: RUN, ticketId: 'D301', status: 'BLOCKED', cause: 'FAIL', blockedReason: 'retry cap: 3 failed attempts (cap 3)', endedAt: '2026-12-01T00:00:02Z', costUsd: 0, reasons: ['gate: fast FAIL'], evidence });
    fs.mkdirSync(path.join(root, 'logs', 'autopilot', 'audits'), { recursive: true });
    fs.writeFileSync(path.join(root, 'logs', 'autopilot', 'audits', `${RUN}.json`), JSON.stringify({ ticket_id: 'D301', verdict: 'FAIL', model: 'gpt-5', cost_usd: 0, violations: [{ file: 'engine/report.py', rule: 'single-pnl', message: 'PnL outside engine/pnl.py' }] }));
    await editDocument(path.join(root, 'D_ROADMAP.md'), (t) => setTicketStatus(t, 'D301', { status: 'BLOCKED', reason: 'retry cap: 3 failed attempts (cap 3)' }));

    const s = await collectStatus(root);
    assert.equal(s.blocked.length, 1);
    const b = s.blocked[0];
    assert.equal(b.ticketId, 'D301');
    assert.equal(b.reason, 'retry cap: 3 failed attempts (cap 3)');
    assert.equal(b.evidence, evidence);
    assert.deepEqual(b.failing, ['gate fast FAIL', 'failed test tests/test_report.py::test_net']);
    assert.equal(b.audit?.findings.length, 1);
    // --json prints the same object (it survives JSON).
    assert.deepEqual(JSON.parse(JSON.stringify(s)).blocked[0].headline, 'retry cap: 3 failed attempts (cap 3) (last: gate fast FAIL)');
    const text = renderStatus(s);
    assert.match(text, /^Blocked {4}1 ticket needs a person — retry: factory run --ticket <T> --unblock/m);
    assert.match(text, new RegExp(`^ {2}BLOCKED {2}D301 {2}retry cap: 3 failed attempts \\(cap 3\\) \\(last: gate fast FAIL\\) · evidence ${evidence} · Auditor FAIL \\(1 finding\\) logs/autopilot/audits/${RUN}\\.json$`, 'm'));
  });
});
