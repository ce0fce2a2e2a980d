import { strict as assert } from 'node:assert';
import { configSchema, defaultConfig } from '../../src/core/config/schema';

describe('config schema', () => {
  it('defaults to the spec layout and kill switches', () => {
    const c = defaultConfig();
    assert.equal(c.ssot.roadmap, 'D_ROADMAP.md');
    assert.equal(c.ssot.ledger, 'docs/v2/design/AC_LEDGER.md');
    assert.equal(c.ssot.rules, 'docs/v2/SSOT_RULES.md');
    assert.equal(c.paths.evidence, 'logs/evidence');
    assert.deepEqual(c.killSwitch, { budgetUsd: 1, timeMinutes: 30, maxRetries: 3, escalateAfterFails: 2 });
    assert.deepEqual(c.gate.stages.map((s) => s.name), ['doctor', 'fast', 'regression']);
  });

  it('reports the JSON path of a wrong type and of an unknown key', () => {
    const r = configSchema.safeParse({ worker: { memoryMb: 'lots' }, typo: true });
    if (r.success) assert.fail('a wrong type must not parse');
    const paths = r.error.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('worker.memoryMb'), paths.join(','));
    assert.ok(r.error.issues.some((i) => i.code === 'unrecognized_keys'));
  });
});
