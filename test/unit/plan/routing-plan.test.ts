import { strict as assert } from 'node:assert';
import { configSchema, type FactoryConfigInput } from '../../../src/core/config/schema';
import { planSchema } from '../../../src/core/contracts/plan';
import { buildPlan, type PlanRequest } from '../../../src/core/plan/builder';
import { routingLines } from '../../../src/core/plan/routing';
import type { AcceptanceCriterion, SsotIndex, Ticket } from '../../../src/core/ssot/model';

const ac = (id: string, title: string): AcceptanceCriterion => {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title, status: 'OPEN', rawStatus: 'OPEN', source: { file: 'L.md', line: 1 } };
};
const ticket = (id: string, title: string): Ticket => ({ id, title, status: 'OPEN', rawStatus: 'OPEN', acs: [], source: { file: 'R.md', line: 1 } });
// D1 is LOW by default config risk.default LOW below; D2's 'slippage' makes it HIGH; D3's 'PnL' CRIT.
const index: SsotIndex = {
  phases: [],
  tickets: [ticket('D1', 'Docs'), ticket('D2', 'Slippage model'), ticket('D3', 'PnL report')],
  ledger: [ac('D1::AC-1', 'write docs'), ac('D2::AC-1', 'model slippage'), ac('D3::AC-1', 'report PnL')],
  diagnostics: [],
};
const now = new Date('2026-01-02T03:04:05Z');
const plan = (ticketId: string, extra: Partial<PlanRequest> = {}, config: FactoryConfigInput = {}) =>
  buildPlan(index, configSchema.parse({ risk: { default: 'LOW' }, ...config }), { ticket: ticketId, files: [], baseCommit: 'abcdef1234', now, ...extra }).plan;

describe('plan.json carries the cost gate\'s routes (issue 16)', () => {
  it('LOW: the economy Worker, no Auditor, no reserve; plan.agent/model/model_budget follow the route; the plan validates', () => {
    const p = plan('D1');
    assert.equal(p.risk_level, 'LOW');
    assert.deepEqual([p.agent, p.model, p.model_budget], ['codex', 'gpt-5-mini', 'economy']);
    assert.deepEqual(Object.keys(p.routing ?? {}), ['worker']);
    assert.ok(!p.done_criteria.includes('Auditor'));
    assert.ok(planSchema.safeParse(JSON.parse(JSON.stringify(p))).success);
  });

  it('HIGH and CRIT: the Auditor, why it runs, and the reserve; CRIT\'s Worker is the standard tier', () => {
    const high = plan('D2');
    assert.equal(high.risk_level, 'HIGH');
    assert.equal(high.routing?.auditor?.model, 'claude-opus-4-5');
    assert.equal(high.routing?.auditor?.why[0], 'risk HIGH ≥ risk.auditorAt HIGH');
    assert.equal(high.routing?.reserve_usd, 0.375);
    assert.ok(high.done_criteria.includes('Auditor verdict PASS'));
    const crit = plan('D3');
    assert.equal(crit.risk_level, 'CRIT');
    assert.deepEqual([crit.agent, crit.model, crit.model_budget], ['claude-code', 'claude-sonnet-4-5', 'standard']);
    assert.equal(`${crit.routing?.auditor?.agent} ${crit.routing?.auditor?.model}`, 'codex gpt-5');
    for (const p of [high, crit]) assert.ok(planSchema.safeParse(JSON.parse(JSON.stringify(p))).success);
  });

  it('after FAILs: the Worker steps up by consecutiveFails; escalate adds the Auditor to a LOW ticket with the kill switch as its reason', () => {
    const once = plan('D1', { consecutiveFails: 1 });
    assert.deepEqual([once.model, once.model_budget], ['claude-sonnet-4-5', 'standard']);
    assert.equal(once.routing?.auditor, undefined);
    const twice = plan('D1', { consecutiveFails: 2, escalate: true });
    assert.deepEqual([twice.model, twice.model_budget], ['claude-opus-4-5', 'premium']);
    assert.equal(twice.routing?.auditor?.why[0], '2 consecutive FAILs ≥ killSwitch.escalateAfterFails 2');
    assert.equal(twice.routing?.reserve_usd, 0.375);
    assert.ok(twice.done_criteria.includes('Auditor verdict PASS'));
  });

  it('--agent / --model are recorded as the override (flags, or the caller\'s source)', () => {
    const p = plan('D1', { agent: 'replay', model: 'gpt-5-nano' });
    assert.deepEqual([p.agent, p.model, p.model_budget], ['replay', 'gpt-5-nano', 'economy']);
    assert.equal(p.routing?.override, '--agent replay --model gpt-5-nano');
    assert.equal(plan('D1', { agent: 'gemini', overrideSource: 'the Run panel\'s picker' }).routing?.override, 'the Run panel\'s picker');
    assert.equal(plan('D1', {}, { worker: { agent: 'aider' } }).routing?.override, 'worker.agent in .factory/config.json');
  });

  it('routingLines: Worker, Auditor (or "not needed"), override; a plan without routing shows its agent and budget', () => {
    const p = plan('D2', { agent: 'replay' });
    const lines = routingLines(p);
    assert.match(lines[0] ?? '', /^Worker: replay claude-sonnet-4-5 \(standard\) — risk HIGH → routing\.levels\.HIGH\.worker = standard .*; override \(--agent replay\)/);
    assert.match(lines[1] ?? '', /^Auditor: claude-code claude-opus-4-5 \(premium\), reserve \$0\.38 — risk HIGH ≥ risk\.auditorAt HIGH; /);
    assert.equal(lines[2], 'override: --agent replay');
    assert.deepEqual(routingLines(plan('D1')).slice(1), ['Auditor: not needed']);
    const { routing: _r, model: _m, ...old } = plan('D1');
    assert.deepEqual(routingLines(old), ["Worker: codex (the agent's default model) (economy)", 'Auditor: not needed']);
  });
});
