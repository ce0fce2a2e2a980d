import { strict as assert } from 'node:assert';
import { configSchema, defaultConfig } from '../../../src/core/config/schema';
import { buildPlan, scopeFor } from '../../../src/core/plan/builder';
import { selectWork } from '../../../src/core/plan/queue';
import { planSchema } from '../../../src/core/contracts/plan';
import { assessRisk } from '../../../src/core/plan/risk';
import type { AcceptanceCriterion, SsotIndex, Status, Ticket } from '../../../src/core/ssot/model';
import { FactoryError } from '../../../src/core/util/errors';

function ac(id: string, status: Status, line: number): AcceptanceCriterion {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title: `title of ${id}`, status, rawStatus: status, source: { file: 'L.md', line } };
}
function ticket(id: string, status: Status, extra: Partial<Ticket> = {}): Ticket {
  return { id, title: id, status, rawStatus: status, acs: [], source: { file: 'R.md', line: 1 }, ...extra };
}
function index(ledger: AcceptanceCriterion[], tickets: Ticket[]): SsotIndex {
  return { phases: [], tickets, ledger, diagnostics: [] };
}

const queue = index(
  [ac('T-1::AC-1', 'DONE', 1), ac('T-2::AC-1', 'OPEN', 2), ac('T-3::AC-1', 'OPEN', 3), ac('T-2::AC-2', 'OPEN', 4), ac('T-2::AC-3', 'DONE', 5)],
  [ticket('T-1', 'DONE'), ticket('T-2', 'BLOCKED', { blockedReason: 'retry cap' }), ticket('T-3', 'OPEN')],
);

describe('plan builder', () => {
  it('picks the first OPEN AC in ledger order and batches its ticket’s OPEN ACs', () => {
    const idx = index(queue.ledger, [ticket('T-2', 'IN_PROGRESS'), ticket('T-3', 'OPEN')]);
    const { ticket: t, acs } = selectWork(idx);
    assert.equal(t?.id, 'T-2');
    assert.deepEqual(acs.map((a) => a.id), ['T-2::AC-1', 'T-2::AC-2']);
  });

  it('skips tickets the roadmap marks BLOCKED', () => {
    const { acs } = selectWork(queue);
    assert.deepEqual(acs.map((a) => a.id), ['T-3::AC-1']);
  });

  it('refuses an explicit BLOCKED ticket with its reason, an unknown one, and one with nothing open', () => {
    assert.throws(() => selectWork(queue, 'T-2'), (e: FactoryError) => e.code === 'plan.blocked' && /retry cap/.test(e.message));
    assert.throws(() => selectWork(queue, 'NOPE'), (e: FactoryError) => e.code === 'plan.unknown-ticket');
    assert.throws(() => selectWork(queue, 'T-1'), (e: FactoryError) => e.code === 'plan.nothing-open');
  });

  it('reports an empty queue with exit code 0', () => {
    const done = index([ac('T-1::AC-1', 'DONE', 1)], [ticket('T-1', 'DONE')]);
    assert.throws(() => selectWork(done), (e: FactoryError) => e.code === 'plan.queue-empty' && e.exitCode === 0);
  });

  it('always forbids the SSOT documents and the controller config, and applies per-ticket overrides', () => {
    const config = configSchema.parse({
      ssot: { extraRoadmaps: ['docs/v2/ROADMAP_V2.md'] },
      scope: { modify: ['src/**', 'D_ROADMAP.md'], tickets: [{ ticket: 'ENG-*', modify: ['engine/core/**'], readonly: ['engine/pnl.py'] }] },
    });
    const s = scopeFor('ENG-7', config);
    assert.deepEqual(s.modify, ['engine/core/**']);
    assert.ok(s.readonly.includes('engine/pnl.py'));
    for (const p of ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/SSOT_RULES.md', 'docs/v2/ROADMAP_V2.md', '.factory/**']) {
      assert.ok(s.forbidden.includes(p), p);
    }
    assert.ok(!scopeFor('OTHER-1', config).modify.includes('D_ROADMAP.md'), 'a forbidden path never stays modifiable');
  });

  it('rates engine-core work HIGH (auditor required) and PnL work CRIT', () => {
    const config = defaultConfig();
    const core = assessRisk(['engine/core/**'], ['engine/core/book.py', 'README.md'], config);
    assert.equal(core.level, 'HIGH');
    assert.equal(core.auditorRequired, true);
    const pnl = assessRisk(['engine/**'], ['engine/pnl.py'], config);
    assert.equal(pnl.level, 'CRIT');
    assert.equal(pnl.reasons[pnl.reasons.length - 1]?.path, 'engine/pnl.py');
    const docs = assessRisk(['docs/**'], ['docs/a.md', 'engine/pnl.py'], config);
    assert.equal(docs.level, 'MED');
    assert.equal(docs.auditorRequired, false);
  });

  it('builds plan.json with spec fields, a sortable run id and the kill-switch time cap', () => {
    const now = new Date('2026-11-25T01:02:03Z');
    const { plan } = buildPlan(queue, defaultConfig(), { files: ['src/a.py'], baseCommit: 'ABCDEF0123', now });
    assert.equal(plan.run_id, '20261125_010203_t_3_abcdef0');
    assert.equal(plan.ticket_id, 'T-3');
    assert.deepEqual(plan.ac_ids, ['T-3::AC-1']);
    assert.equal(plan.timeout_minutes, 30);
    assert.equal(plan.model_budget, 'standard');
    assert.equal(plan.created_at, now.toISOString());
    // The plan is what the contract accepts, unchanged (the Worker reads it back through planSchema).
    assert.deepEqual(planSchema.parse(JSON.parse(JSON.stringify(plan))), plan);
    const other = index([ac('D_ALPHA-1U-FIX-2::AC-1', 'OPEN', 1)], [ticket('D_ALPHA-1U-FIX-2', 'OPEN')]);
    assert.equal(buildPlan(other, defaultConfig(), { files: [], baseCommit: 'no-head', now }).plan.run_id, '20261125_010203_d_alpha_1u_fix_2_0000000');
  });

  it('refuses a plan whose configured scope the path validator rejects (SEC-17)', () => {
    const config = configSchema.parse({ scope: { modify: ['../outside/**'] } });
    assert.throws(
      () => buildPlan(queue, config, { files: [], baseCommit: 'abcdef0', now: new Date() }),
      (e: FactoryError) => e.code === 'plan.invalid' && /scope\.modify/.test(e.message),
    );
  });
});
