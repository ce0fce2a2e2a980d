import { strict as assert } from 'node:assert';
import { defaultConfig } from '../../../src/core/config/schema';
import type { CycleStatus } from '../../../src/core/contracts/status';
import type { CycleRecord } from '../../../src/core/cycle/kill-switches';
import { cycleBudget } from '../../../src/core/cycle/spend';
import { auditNeeded, decideVerdict, findings, planVerdict, reserveVerdict, verdictLimits, type CheckFacts, type Verdict, type WorkerFacts } from '../../../src/core/cycle/verdict';

/**
 * The verdict as a table: each row is what the phases found → status, reasons, block and
 * escalation. The transitions are the spec's (§3-3 Auditor calls, §5-3 fail-fast and escalation,
 * §5-4 kill switches: budget, time and retry caps → BLOCKED).
 */
const config = defaultConfig(); // maxRetries 3, escalateAfterFails 2, budget $1.00
const TIMEOUT_MIN = 30;

function history(...statuses: CycleStatus[]): CycleRecord[] {
  return statuses.map((status, i) => ({ runId: `r${i}`, ticketId: 'T', status, endedAt: '2026-11-02T10:00:00Z', costUsd: 0.1 }));
}

/** A Worker that did everything right: exited 0, one change in scope, result.json PASS. */
function worker(over: Partial<WorkerFacts> = {}): WorkerFacts {
  return {
    result: { kind: 'read', result: { ticket_id: 'T', status: 'PASS', gate_results: {}, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0, forced: false } },
    run: { status: 'exited', exitCode: 0, oomKilled: false },
    overCap: false,
    budgetHit: false,
    spentUsd: 0.25,
    changes: 1,
    violations: [],
    ...over,
  };
}

const gatePass: CheckFacts = { gate: { status: 'PASS' } };

interface Row {
  name: string;
  worker?: Partial<WorkerFacts>;
  check?: CheckFacts;
  history?: CycleRecord[];
  want: Verdict;
}

const rows: Row[] = [
  { name: 'every check passed → PASS', check: gatePass, want: { status: 'PASS', cause: 'PASS', reasons: [] } },
  { name: 'Gate FAIL → FAIL (§5-3: the Worker result is refused)', check: { gate: { status: 'FAIL', failedAt: 'fast' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['Gate FAIL at fast'] } },
  { name: 'Gate FAIL without a step → FAIL', check: { gate: { status: 'FAIL' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['Gate FAIL at unknown step'] } },
  { name: 'no Gate ran and no reason → not PASS', want: { status: 'FAIL', cause: 'FAIL', reasons: [] } },
  { name: 'no result.json → FAIL', worker: { result: { kind: 'missing' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker wrote no result.json'] } },
  { name: 'result.json rejected → FAIL', worker: { result: { kind: 'rejected', error: 'too big' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['result.json rejected: too big'] } },
  {
    name: 'result.json claims PASS with a FAIL gate result → FAIL (§5-3 forced)',
    worker: { result: { kind: 'read', result: { ticket_id: 'T', status: 'FAIL', gate_results: { fast: 'FAIL' }, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0, forced: true } } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['result.json claims PASS while one of its gate results is FAIL'] },
  },
  {
    name: 'the Worker reports PARTIAL → FAIL',
    worker: { result: { kind: 'read', result: { ticket_id: 'T', status: 'PARTIAL', gate_results: {}, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0, forced: false } } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker reported PARTIAL'] },
  },
  { name: 'the Worker changed nothing → FAIL', worker: { changes: 0 }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker changed nothing'] } },
  { name: '"changed nothing" only when nothing else is wrong', worker: { changes: 0, result: { kind: 'missing' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker wrote no result.json'] } },
  {
    name: 'changes outside the scope → FAIL',
    worker: { violations: [{ path: 'D_ROADMAP.md', rule: 'forbidden' }] },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ["1 change(s) outside the plan's scope: D_ROADMAP.md (forbidden)"] },
  },
  { name: 'non-zero exit with the agent outcome → FAIL', worker: { run: { status: 'exited', exitCode: 3, oomKilled: false }, agentOutcome: 'agent_error' }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker exited with code 3 (agent: agent_error)'] } },
  {
    name: 'OOM → FAIL, after the exit code',
    worker: { run: { status: 'exited', exitCode: 137, oomKilled: true } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['the Worker exited with code 137', 'the Worker ran out of memory (OOM-killed)'] },
  },
  {
    name: 'time cap → TIMEOUT and the ticket BLOCKED (§5-4)',
    worker: { run: { status: 'timeout', exitCode: null, oomKilled: false } },
    want: { status: 'TIMEOUT', cause: 'TIMEOUT', reasons: ['time cap: the Worker ran past 30 min and was killed'], blockReason: 'time cap (30 min)' },
  },
  {
    name: 'time cap wins over the retry cap',
    history: history('FAIL', 'FAIL'),
    worker: { run: { status: 'timeout', exitCode: null, oomKilled: false } },
    want: { status: 'TIMEOUT', cause: 'TIMEOUT', reasons: ['time cap: the Worker ran past 30 min and was killed'], blockReason: 'time cap (30 min)' },
  },
  {
    name: 'budget cap → BLOCKED (§5-4), the attempt counts as FAIL',
    worker: { budgetHit: true, run: { status: 'killed', exitCode: null, oomKilled: false } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: ['budget cap: the cycle spent $0.2500 of $1.00; the gateway refused further calls'], blockReason: 'budget cap ($1.00)' },
  },
  {
    name: 'workspace size cap → FAIL, no block',
    worker: { overCap: true, run: { status: 'killed', exitCode: null, oomKilled: false } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: [`workspace size cap: the Worker wrote more than ${config.worker.workspaceMb} MiB into the staging copy and was stopped`] },
  },
  {
    name: 'the workspace cap is the reason, the budget cap still blocks',
    worker: { overCap: true, budgetHit: true, run: { status: 'killed', exitCode: null, oomKilled: false } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: [`workspace size cap: the Worker wrote more than ${config.worker.workspaceMb} MiB into the staging copy and was stopped`], blockReason: 'budget cap ($1.00)' },
  },
  {
    name: 'third failed attempt → retry cap → BLOCKED (§5-4)',
    history: history('FAIL', 'TIMEOUT'),
    check: { gate: { status: 'FAIL', failedAt: 'regression' } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: ['Gate FAIL at regression'], blockReason: 'retry cap: 3 failed attempts (cap 3)' },
  },
  {
    name: 'a PASS between resets the retry count',
    history: history('FAIL', 'FAIL', 'PASS', 'FAIL'),
    check: { gate: { status: 'FAIL', failedAt: 'fast' } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['Gate FAIL at fast'] },
  },
  {
    name: 'ABORTED cycles are no attempts',
    history: history('FAIL', 'ABORTED', 'ABORTED'),
    check: { gate: { status: 'FAIL', failedAt: 'fast' } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['Gate FAIL at fast'] },
  },
  {
    name: 'Auditor FAIL → FAIL, with its violations',
    check: { gate: { status: 'PASS' }, audit: { verdict: 'FAIL', summary: 'x', violations: [{ file: 'engine/pnl.py', line: 12, rule: 'welding' }, { file: 'a.py', rule: 'r2' }] } },
    want: { status: 'FAIL', cause: 'FAIL', reasons: ['Auditor verdict FAIL: engine/pnl.py:12 welding; a.py r2'] },
  },
  { name: 'Auditor FAIL without violations → its summary', check: { gate: { status: 'PASS' }, audit: { verdict: 'FAIL', summary: 'PnL drift', violations: [] } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['Auditor verdict FAIL: PnL drift'] } },
  { name: 'Auditor PASS → PASS', check: { gate: { status: 'PASS' }, audit: { verdict: 'PASS', summary: '', violations: [] } }, want: { status: 'PASS', cause: 'PASS', reasons: [] } },
  { name: 'profit ticket without pnl_breakdown.json → FAIL', check: { gate: { status: 'PASS' }, pnlMissing: true }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['profit ticket: the Worker produced no valid pnl_breakdown.json in /factory/out'] } },
  { name: 'rejected in review → FAIL', check: { gate: { status: 'PASS' }, review: { approved: false, reason: 'wrong file' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['rejected in review: wrong file'] } },
  { name: 'rejected in review without a reason', check: { gate: { status: 'PASS' }, review: { approved: false, reason: '' } }, want: { status: 'FAIL', cause: 'FAIL', reasons: ['rejected in review: no reason given'] } },
  { name: 'approved in review → PASS', check: { gate: { status: 'PASS' }, review: { approved: true } }, want: { status: 'PASS', cause: 'PASS', reasons: [] } },
  {
    name: 'the Worker hit its share of the budget (the Auditor reserve held back) → BLOCKED, the reason names the reserve',
    worker: { budgetHit: true, spentUsd: 0.8875, reserveUsd: 0.1125, run: { status: 'killed', exitCode: null, oomKilled: false } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: ['budget cap: the cycle spent $0.8875 of $1.00 ($0.1125 of it held back for the Auditor); the gateway refused further calls'], blockReason: 'budget cap ($1.00)' },
  },
  {
    name: 'the Auditor ran out of budget → BLOCKED budget cap, not an Auditor FAIL (its non-verdict is no verdict)',
    check: { gate: { status: 'PASS' }, auditBudgetHit: { spentUsd: 1.0003 } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: ['budget cap: the Auditor ran out of the cycle budget ($1.0003 of $1.00 spent) and gave no verdict'], blockReason: 'budget cap ($1.00)' },
  },
  {
    name: 'an Auditor budget hit is never a PASS, even with a PASS report beside it',
    check: { gate: { status: 'PASS' }, audit: { verdict: 'PASS', violations: [] }, auditBudgetHit: { spentUsd: 1 } },
    want: { status: 'BLOCKED', cause: 'FAIL', reasons: ['budget cap: the Auditor ran out of the cycle budget ($1.0000 of $1.00 spent) and gave no verdict'], blockReason: 'budget cap ($1.00)' },
  },
];

describe('cycle verdict: phase results → status (table)', () => {
  for (const row of rows) {
    it(row.name, () => {
      const got = decideVerdict({ config, ticketId: 'T', runId: 'now', timeoutMinutes: TIMEOUT_MIN, history: row.history ?? [], worker: worker(row.worker), check: row.check ?? {} });
      assert.deepEqual(got, row.want);
    });
  }

  it('a Worker container error is no verdict: findings name it, the decision refuses it', () => {
    const w = worker({ run: { status: 'error', exitCode: null, oomKilled: false, error: 'no such image' } });
    const f = findings(w, {}, verdictLimits(config, TIMEOUT_MIN));
    assert.equal(f.workerError, 'the Worker container failed: no such image');
    assert.throws(() => decideVerdict({ config, ticketId: 'T', runId: 'now', timeoutMinutes: TIMEOUT_MIN, history: [], worker: w, check: {} }));
    // A cap explains the stop: a reason, not an error.
    const capped = findings({ ...w, budgetHit: true }, {}, verdictLimits(config, TIMEOUT_MIN));
    assert.equal(capped.workerError, undefined);
    assert.equal(capped.reasons.length, 1);
  });

  it('reasons keep the order the checks ran in', () => {
    const w = worker({ result: { kind: 'missing' }, run: { status: 'exited', exitCode: 1, oomKilled: true }, violations: [{ path: 'x', rule: 'forbidden' }] });
    const f = findings(w, { audit: { verdict: 'FAIL', violations: [], summary: '' } }, verdictLimits(config, TIMEOUT_MIN));
    assert.deepEqual(f.reasons, ['the Worker wrote no result.json', 'the Worker exited with code 1', 'the Worker ran out of memory (OOM-killed)', "1 change(s) outside the plan's scope: x (forbidden)", 'Auditor verdict FAIL: no detail']);
  });
});

describe('cycle verdict: an Auditor reserve the budget cannot hold', () => {
  it('is BLOCKED with the budget\'s reason before the Worker starts; not an attempt (cause BLOCKED), so it neither escalates nor counts to the retry cap', () => {
    const b = cycleBudget({ budgetUsd: 1, controllerUsd: 0.05, reserveUsd: 1.5, auditor: { agent: 'codex', model: 'gpt-5' } });
    assert.equal(b.fits, false);
    const reason = b.fits ? '' : b.reason;
    const v = reserveVerdict(reason);
    assert.deepEqual(v, { status: 'BLOCKED', cause: 'BLOCKED', reasons: [reason], blockReason: reason });
    assert.match(v.blockReason ?? '', /^budget cap: the Auditor's reserve \$1\.5000 \(codex gpt-5\) does not fit the cycle budget \$1\.00 after \$0\.0500 spent$/);
    // Recorded as BLOCKED: the next cycles start from a clean count.
    const after = planVerdict([...history('FAIL', 'FAIL'), { runId: 'b', ticketId: 'T', status: v.status, endedAt: '', costUsd: 0.05 }], 'T', config);
    assert.equal(after.escalate, false);
    assert.equal(after.killSwitch.attempts, 0);
  });
});

describe('cycle verdict at PLAN: escalation and the retry cap (table)', () => {
  const planRows: { name: string; history: CycleRecord[]; escalate: boolean; blocked: Verdict | null }[] = [
    { name: 'no history → run, no Auditor', history: [], escalate: false, blocked: null },
    { name: 'one FAIL → run, no Auditor', history: history('FAIL'), escalate: false, blocked: null },
    { name: 'two consecutive FAILs → the Auditor is called (§3-3, §5-3)', history: history('FAIL', 'FAIL'), escalate: true, blocked: null },
    { name: 'FAIL then TIMEOUT count as consecutive FAILs', history: history('FAIL', 'TIMEOUT'), escalate: true, blocked: null },
    { name: 'a PASS resets the run of FAILs', history: history('FAIL', 'PASS', 'FAIL'), escalate: false, blocked: null },
    { name: 'a BLOCKED (handled by a person) resets', history: history('FAIL', 'FAIL', 'BLOCKED'), escalate: false, blocked: null },
    { name: 'ABORTED does not break the run', history: history('FAIL', 'ABORTED', 'FAIL'), escalate: true, blocked: null },
    {
      name: 'three failed attempts → BLOCKED before anything runs (§5-4)',
      history: history('FAIL', 'FAIL', 'TIMEOUT'),
      escalate: false,
      blocked: { status: 'BLOCKED', cause: 'FAIL', reasons: ['retry cap: 3 failed attempts (cap 3)'], blockReason: 'retry cap: 3 failed attempts (cap 3)' },
    },
  ];
  for (const row of planRows) {
    it(row.name, () => {
      const got = planVerdict(row.history, 'T', config);
      assert.equal(got.escalate, row.escalate);
      assert.deepEqual(got.blocked, row.blocked);
    });
  }

  it('other tickets do not count', () => {
    const h = history('FAIL', 'FAIL', 'FAIL').map((r) => ({ ...r, ticketId: 'U' }));
    assert.deepEqual(planVerdict(h, 'T', config).blocked, null);
    assert.equal(planVerdict(h, 'U', config).blocked?.status, 'BLOCKED');
  });
});

describe('cycle verdict: when the Auditor runs (table)', () => {
  const limits = verdictLimits(config, TIMEOUT_MIN);
  const clean = findings(worker(), gatePass, limits);
  const failed = findings(worker(), { gate: { status: 'FAIL', failedAt: 'fast' } }, limits);
  const timedOut = findings(worker({ run: { status: 'timeout', exitCode: null, oomKilled: false } }), {}, limits);
  const table: [string, ReturnType<typeof findings>, boolean, boolean, boolean][] = [
    ['normal ticket, all passed → no Auditor', clean, false, false, false],
    ['high risk, all passed → Auditor', clean, false, true, true],
    ['high risk, Gate FAIL → no Auditor (not worth paying for)', failed, false, true, false],
    ['escalation, Gate FAIL → Auditor', failed, true, false, true],
    ['escalation, all passed → Auditor', clean, true, false, true],
    ['escalation after a time cap → no Auditor', timedOut, true, true, false],
  ];
  for (const [name, f, escalate, risk, want] of table) {
    it(name, () => assert.equal(auditNeeded(f, escalate, risk), want));
  }
});
