import { strict as assert } from 'node:assert';
import { ZERO_USAGE } from '../../../src/core/config/prices';
import type { GatewayRecord } from '../../../src/core/gateway/gateway';
import { gatewayLines, meteredResult } from '../../../src/core/cycle/phases/evidence';

const rec = (model: string, costUsd: number): GatewayRecord => ({ time: 't', provider: 'openai', method: 'POST', path: '/v1/responses', status: 200, model, stream: true, usage: { ...ZERO_USAGE, inputTokens: 10 }, costUsd, priced: true, durationMs: 1 });

describe('cycle spend in the evidence', () => {
  it("result.json: cost_estimate_usd is the gateway's metered Worker cost, the Worker's own claim kept beside it; the Controller's `forced` mark is not written", () => {
    const read = { ticket_id: 'D7', status: 'PASS' as const, gate_results: {}, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0, model_used: 'gpt-5-mini', forced: false };
    assert.deepEqual(meteredResult(read, 0.175), { ticket_id: 'D7', status: 'PASS', gate_results: {}, files_changed: [], kpi_summary: {}, cost_estimate_usd: 0.175, model_used: 'gpt-5-mini', cost_claimed_by_worker_usd: 0 });
  });

  it('gateway.jsonl: every role\'s calls, in role order, each line naming its role', () => {
    const text = gatewayLines([['controller', [rec('gpt-5-mini', 0.001)]], ['worker', [rec('gpt-5-mini', 0.01), rec('gpt-5-nano', 0.002)]], ['auditor', []]]);
    const lines = text.split('\n').map((l) => JSON.parse(l) as { role: string; model: string; costUsd: number });
    assert.deepEqual(lines.map((l) => [l.role, l.model, l.costUsd]), [['controller', 'gpt-5-mini', 0.001], ['worker', 'gpt-5-mini', 0.01], ['worker', 'gpt-5-nano', 0.002]]);
    assert.equal(gatewayLines([['worker', []]]), '', 'no call, no file content');
  });
});
