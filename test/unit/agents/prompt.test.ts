import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { buildPrompt } from '../../../src/core/agents/prompt';
import { taskFromWorkspace } from '../../../src/core/agents/task-from-workspace';
import { workerTaskSchema } from '../../../src/core/agents/task';
import { loadConfig } from '../../../src/core/config/load';
import { planSchema } from '../../../src/core/contracts/plan';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';

const DEMO = path.resolve(__dirname, '../../../examples/demo-project');

function plan(ticket: string, acs: string[]) {
  return planSchema.parse({
    schema_version: 1, run_id: 'r1', ticket_id: ticket, ac_ids: acs,
    scope: { modify: ['engine/pricing.py', 'tests/**'], readonly: ['engine/fees.py'], forbidden: ['D_ROADMAP.md', 'docs/v2/SSOT_RULES.md'] },
    done_criteria: 'Gate 3 stages PASS', timeout_minutes: 30, model_budget: 'standard', risk_level: 'MED', agent: 'replay', created_at: '2026-11-25T10:00:00Z',
  });
}

describe('Worker prompt: plan + the ACs\' text + rules + scope', () => {
  it('reads the ACs\' text from the ledger (canonical or local ids), the rules document and the gate stages', async () => {
    const { config } = await loadConfig(DEMO);
    const p = plan('D201', ['D201::AC-2', 'AC-3', 'AC-99']);
    const task = workerTaskSchema.parse({ schema_version: 1, agent: { name: 'replay' }, ...(await taskFromWorkspace(DEMO, config, p)) });
    assert.deepEqual(task.acceptanceCriteria.map((a) => a.id), ['D201::AC-2', 'AC-3', 'AC-99']);
    assert.match(task.acceptanceCriteria[0].text, /rejects a negative spread with ValueError/);
    assert.match(task.acceptanceCriteria[1].text, /keeps bid > 0/);
    assert.equal(task.acceptanceCriteria[2].text, '');
    assert.ok(task.rules.length > 100, 'the rules document was read');
    assert.deepEqual(task.gate.stages.map((s) => s.name), config.gate.stages.map((s) => s.name));

    const prompt = buildPrompt(p, task);
    assert.match(prompt, /^# Ticket D201\n/);
    assert.match(prompt, /- \*\*D201::AC-2\*\*: quote\(\) rejects a negative spread with ValueError/);
    assert.match(prompt, /- \*\*AC-99\*\*: \(text not available\)/);
    assert.match(prompt, /You may modify only:\n- `engine\/pricing\.py`\n- `tests\/\*\*`/);
    assert.match(prompt, /Read-only:\n- `engine\/fees\.py`/);
    assert.match(prompt, /Forbidden[^\n]*\n- `D_ROADMAP\.md`\n- `docs\/v2\/SSOT_RULES\.md`/);
    assert.match(prompt, /## Done when\nGate 3 stages PASS/);
    assert.ok(prompt.includes(task.rules.trim().slice(0, 200)), 'the rules text is in the prompt');
  });

  it('works on the real corpus: the first OPEN ledger AC gets its text', async function () {
    requireCorpus(this);
    const { config } = await loadConfig(CORPUS_DIR);
    const { indexWorkspace } = await import('../../../src/core/ssot/workspace');
    const index = await indexWorkspace(CORPUS_DIR, config);
    const open = index.ledger.find((a) => a.status === 'OPEN');
    assert.ok(open, 'the corpus has an OPEN AC');
    const task = await taskFromWorkspace(CORPUS_DIR, config, plan(open.ticketId, [open.id]));
    assert.equal(task.acceptanceCriteria?.[0]?.text.startsWith(open.title), true);
    assert.ok((task.rules ?? '').length > 0);
  });

  it('a workspace without SSOT documents gives empty texts, not a failure', async () => {
    const { defaultConfig } = await import('../../../src/core/config/schema');
    const task = await taskFromWorkspace(path.join(DEMO, 'engine'), defaultConfig(), plan('D1', ['AC-1']));
    assert.deepEqual(task.acceptanceCriteria, [{ id: 'AC-1', text: '' }]);
    assert.equal(task.rules, '');
  });
});

describe('Auditor prompt', () => {
  it('gives a real Auditor its own instructions, not the Worker\'s "implement the acceptance criteria"', () => {
    const p = plan('D302', ['D302::AC-1', 'D302::AC-2']);
    const instructions = 'You are the Auditor of ticket D302 (risk). Write /factory/out/audit_report.json: {"verdict":"PASS"|"FAIL"}.';
    const task = workerTaskSchema.parse({ schema_version: 1, role: 'auditor', agent: { name: 'claude-code' }, acceptanceCriteria: [{ id: 'D302::AUDIT', text: instructions }], rules: 'No PnL outside the engine.' });
    const prompt = buildPrompt(p, task);
    assert.match(prompt, /^# Audit of ticket D302\n/);
    assert.ok(prompt.includes(instructions), 'the Controller\'s audit instructions are in the prompt');
    assert.match(prompt, /- D302::AC-1\n- D302::AC-2/);
    assert.doesNotMatch(prompt, /You are the Worker|Implement the acceptance criteria|text not available/);
    assert.match(prompt, /No PnL outside the engine\./);
    // Without the role the same task is a Worker's (older worker-task.json files stay valid).
    assert.match(buildPrompt(p, workerTaskSchema.parse({ schema_version: 1, agent: { name: 'claude-code' } })), /You are the Worker/);
  });
});
