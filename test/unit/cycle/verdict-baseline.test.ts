import { strict as assert } from 'node:assert';
import { defaultConfig } from '../../../src/core/config/schema';
import type { BaselineReport } from '../../../src/core/cycle/cycle-types';
import { auditNeeded, decideVerdict, findings, gateFacts, preExistingFailure, verdictLimits, type CheckFacts, type WorkerFacts } from '../../../src/core/cycle/verdict';
import type { GateReport, StepResult } from '../../../src/core/gate/gate-model';

/**
 * Spec §8-3 / issue 17: "a Worker is never blamed for a failure HEAD already had". With an
 * accepted red baseline, the Gate step that was red on HEAD and is red after the Worker with no
 * more failed tests does not fail the cycle (it is reported as pre-existing); anything else does.
 */
const config = defaultConfig();

function worker(): WorkerFacts {
  return {
    result: { kind: 'read', result: { ticket_id: 'T', status: 'PASS', gate_results: {}, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0, forced: false } },
    run: { status: 'exited', exitCode: 0, oomKilled: false },
    overCap: false,
    budgetHit: false,
    spentUsd: 0.1,
    changes: 1,
    violations: [],
  };
}

const redFast = (failed: number | undefined, accepted = true): Pick<BaselineReport, 'failing' | 'accepted'> => ({ failing: [{ kind: 'gate', name: 'fast', ...(failed !== undefined ? { failed } : {}) }], accepted });

function verdict(check: CheckFacts) {
  return decideVerdict({ config, ticketId: 'T', runId: 'r', timeoutMinutes: 30, history: [], worker: worker(), check });
}

describe('verdict: failures the accepted baseline already had', () => {
  it('the same stage red with the same or fewer failed tests → PASS, reported as pre-existing', () => {
    for (const after of [2, 1]) {
      const v = verdict({ gate: { status: 'FAIL', failedAt: 'fast', failed: after }, baseline: redFast(2) });
      assert.equal(v.status, 'PASS');
      assert.deepEqual(v.reasons, []);
      assert.equal(v.preExisting?.length, 1);
      assert.match(v.preExisting[0], new RegExp(`^pre-existing: Gate fast fails on HEAD too \\(${after} failed; 2 on HEAD\\)`));
    }
  });

  it('more failed tests than on HEAD → FAIL: the Worker broke something more', () => {
    const v = verdict({ gate: { status: 'FAIL', failedAt: 'fast', failed: 3 }, baseline: redFast(2) });
    assert.equal(v.status, 'FAIL');
    assert.deepEqual(v.reasons, ['Gate FAIL at fast']);
    assert.equal(v.preExisting, undefined);
  });

  it('HEAD counted its failures but the cycle\'s count is unknown → FAIL (not provably no worse)', () => {
    assert.equal(verdict({ gate: { status: 'FAIL', failedAt: 'fast' }, baseline: redFast(2) }).status, 'FAIL');
  });

  it('a different stage red → FAIL; the baseline not accepted → FAIL; no baseline → FAIL', () => {
    assert.equal(verdict({ gate: { status: 'FAIL', failedAt: 'doctor', failed: 0 }, baseline: redFast(2) }).status, 'FAIL');
    assert.equal(verdict({ gate: { status: 'FAIL', failedAt: 'fast', failed: 1 }, baseline: redFast(2, false) }).status, 'FAIL');
    assert.equal(verdict({ gate: { status: 'FAIL', failedAt: 'fast', failed: 1 } }).status, 'FAIL');
  });

  it('no counts on either side: the stage being red on HEAD is enough', () => {
    assert.equal(verdict({ gate: { status: 'FAIL', failedAt: 'fast' }, baseline: redFast(undefined) }).status, 'PASS');
    assert.equal(preExistingFailure({ status: 'PASS' }, redFast(undefined)), null);
  });

  it('a pre-existing failure leaves the Auditor its chance (no reason against the cycle yet)', () => {
    const f = findings(worker(), { gate: { status: 'FAIL', failedAt: 'fast', failed: 1 }, baseline: redFast(1) }, verdictLimits(config, 30));
    assert.deepEqual(f.reasons, []);
    assert.equal(auditNeeded(f, false, true), true);
    // …and an Auditor FAIL still fails the cycle.
    const v = verdict({ gate: { status: 'FAIL', failedAt: 'fast', failed: 1 }, baseline: redFast(1), audit: { verdict: 'FAIL', violations: [{ file: 'a.py', rule: 'R1' }] } });
    assert.equal(v.status, 'FAIL');
  });

  it('gateFacts: the failing step\'s failed tests and errors from its parsed counts', () => {
    const step = (name: string, status: StepResult['status'], failed?: number): StepResult => ({ kind: 'stage', name, argv: [], status, exitCode: status === 'PASS' ? 0 : 1, startedAt: '', endedAt: '', durationMs: 1, outputTail: '', ...(failed !== undefined ? { counts: { framework: 'pytest', passed: 1, failed, skipped: 0, errors: 1, failedTests: [] } } : {}) });
    const report = { status: 'FAIL', failedAt: 'fast', guards: [], stages: [step('doctor', 'PASS'), step('fast', 'FAIL', 2), step('regression', 'SKIPPED')] } as unknown as GateReport;
    assert.deepEqual(gateFacts(report), { status: 'FAIL', failedAt: 'fast', failed: 3 });
  });
});
