import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditorRouteOf } from '../../../src/core/auditor/run-auditor';
import { defaultConfig } from '../../../src/core/config/schema';
import { planSchema, type Plan } from '../../../src/core/contracts/plan';

function plan(over: Record<string, unknown> = {}): Plan {
  return planSchema.parse({
    schema_version: 1, run_id: 'r1', ticket_id: 'D302', ac_ids: ['D302::AC-1'], scope: { modify: ['engine/**'] },
    timeout_minutes: 5, model_budget: 'standard', risk_level: 'CRIT', agent: 'claude-code', created_at: new Date().toISOString(), ...over,
  });
}

describe('the Auditor runs routed', () => {
  const routed = { worker: { agent: 'codex', model: 'gpt-5-mini', tier: 'economy', why: ['risk LOW'] }, auditor: { agent: 'gemini', model: 'gemini-2.5-pro', tier: 'premium', why: ['risk HIGH'] }, reserve_usd: 0.1 };

  it("the plan's routed Auditor (agent and model), not the config's single setting", () => {
    assert.deepEqual(auditorRouteOf({ config: defaultConfig(), plan: plan({ routing: routed }) }), { agent: 'gemini', model: 'gemini-2.5-pro' });
  });

  it('an explicit route (factory audit) wins over the plan', () => {
    assert.deepEqual(auditorRouteOf({ config: defaultConfig(), plan: plan({ routing: routed }), route: { agent: 'claude-code', model: 'claude-opus-4-5' } }), { agent: 'claude-code', model: 'claude-opus-4-5' });
  });

  it("a plan written before routing: the table's Auditor for its risk (CRIT → another provider), config auditor overrides over it", () => {
    assert.deepEqual(auditorRouteOf({ config: defaultConfig(), plan: plan() }), { agent: 'codex', model: 'gpt-5' });
    const c = defaultConfig();
    c.auditor = { ...c.auditor, model: 'o3' };
    assert.deepEqual(auditorRouteOf({ config: c, plan: plan() }), { agent: 'codex', model: 'o3' });
  });

  it('a replay recording runs the replay agent but keeps the routed model (the meter names it); a missing recording does not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-audit-route-'));
    try {
      const rec = path.join(dir, 'D302.audit.json');
      fs.writeFileSync(rec, '{"steps":[]}\n');
      assert.deepEqual(auditorRouteOf({ config: defaultConfig(), plan: plan({ routing: routed }), replayFile: rec }), { agent: 'replay', model: 'gemini-2.5-pro' });
      assert.deepEqual(auditorRouteOf({ config: defaultConfig(), plan: plan({ routing: routed }), replayFile: path.join(dir, 'none.json') }), { agent: 'gemini', model: 'gemini-2.5-pro' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
