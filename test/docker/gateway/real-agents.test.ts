import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { PriceTable } from '../../../src/core/config/prices';
import { runAgentSandbox, type AgentSandboxReport } from '../../../src/core/agents/run-agent';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider, type Script, type ScriptedTurn } from '../../support/scripted-provider';
import { buildRuntime, ensureAgentsImage, makePlan, makeRepo } from './helpers';

const REAL_KEY = 'sk-REAL-host-key-for-real-cli-tests-93ab';
const USAGE = { input: 1000, output: 500 };

/** Each CLI's own file-writing tool, as the model would call it. */
const TOOL: Record<string, ScriptedTurn['toolCall']> = {
  anthropic: { name: 'Write', input: { file_path: '/workspace/hello.txt', content: 'hello from the model\n' } },
  'openai-responses': { name: 'exec_command', input: { cmd: "printf 'hello from the model\\n' > hello.txt" } },
  gemini: { name: 'write_file', input: { file_path: '/workspace/hello.txt', content: 'hello from the model\n' } },
};

/** First turn: the tool call; once the tool result comes back: a closing text. */
const twoTurns: Script = (req) => (req.hasToolResult ? { text: 'Done.', usage: USAGE } : { toolCall: TOOL[req.api], usage: USAGE });

/**
 * The real agent CLIs (versions in docker/agents/versions.env) inside the Worker container, pointed
 * at the real gateway, with only the model scripted: each really edits the staging copy, and the
 * gateway's metered cost equals the CLI's own figure under the same prices.
 */
describe('docker: real agent CLIs through the gateway (scripted model)', function () {
  let image: string;
  let repo: string;
  let provider: ScriptedProvider;

  before(async function () {
    this.timeout(20 * 60_000);
    requireDocker(this);
    image = ensureAgentsImage();
    await buildRuntime();
  });
  beforeEach(async () => {
    repo = makeRepo();
    provider = await ScriptedProvider.start({ script: twoTurns, expectedKey: REAL_KEY });
  });
  afterEach(async () => {
    await provider.close();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  function run(agent: string, model: string, budgetUsd = 1): Promise<AgentSandboxReport> {
    return runAgentSandbox({
      root: repo, plan: makePlan(agent, 3), agent, model, maxTurns: 6, budgetUsd, image, prices: PriceTable.withOverrides(),
      keys: { anthropic: REAL_KEY, openai: REAL_KEY, gemini: REAL_KEY },
      upstreams: { anthropic: provider.url, openai: provider.url, gemini: provider.url },
    });
  }

  function assertEdited(r: AgentSandboxReport): void {
    const why = `${r.sandbox.reasons.join('; ')} | agent: ${JSON.stringify(r.agent)}`;
    assert.equal(r.outcome, 'success', why);
    assert.equal(r.sandbox.status, 'PASS', why);
    assert.deepEqual(r.sandbox.changeset, [{ path: 'hello.txt', kind: 'added' }], why);
    assert.ok(provider.requests.length >= 2, 'the CLI went round the tool loop');
    assert.ok(provider.requests.every((q) => q.key === REAL_KEY), 'the upstream only ever saw the real key');
    assert.ok(provider.requests.some((q) => q.hasToolResult), 'the tool result came back to the model');
  }

  it('claude-code: Claude Code writes the file via its Write tool; gateway cost = its total_cost_usd', async () => {
    const r = await run('claude-code', 'claude-sonnet-4-5');
    assertEdited(r);
    assert.equal(r.agent?.costSource, 'reported');
    assert.equal(r.gateway.inputTokens, provider.served.input);
    assert.equal(r.gateway.outputTokens, provider.served.output);
    assert.ok(Math.abs(r.gateway.costUsd - r.agent.costUsd!) < 1e-9, `gateway ${r.gateway.costUsd} vs claude ${r.agent?.costUsd}`);
    assert.ok(Math.abs(r.gateway.costUsd - 0.0105 * provider.served.requests) < 1e-9);
  });

  it('codex: Codex runs exec_command to write the file; gateway cost = tokens × price table (its stream has no cost)', async () => {
    const r = await run('codex', 'gpt-5');
    assertEdited(r);
    assert.equal(r.agent?.costSource, 'computed');
    assert.equal(r.agent?.usage.outputTokens, provider.served.output, 'codex reported the served usage');
    assert.ok(Math.abs(r.gateway.costUsd - r.agent.costUsd!) < 1e-9, `gateway ${r.gateway.costUsd} vs codex ${r.agent?.costUsd}`);
  });

  it('gemini: Gemini CLI writes the file via write_file; gateway cost = tokens × price table', async () => {
    const r = await run('gemini', 'gemini-2.5-pro');
    assertEdited(r);
    assert.equal(r.agent?.costSource, 'computed');
    assert.ok(Math.abs(r.gateway.costUsd - r.agent.costUsd!) < 1e-9, `gateway ${r.gateway.costUsd} vs gemini ${r.agent?.costUsd}`);
  });

  it('claude-code with a cycle budget for one call: its own --max-budget-usd stops it after that turn (overshoot ≤ one call)', async () => {
    const r = await run('claude-code', 'claude-sonnet-4-5', 0.01);
    assert.equal(r.outcome, 'budget_exceeded', JSON.stringify(r.agent));
    assert.equal(r.agent?.outcome, 'budget_exceeded', 'Claude Code said so itself (error_max_budget_usd)');
    assert.equal(r.sandbox.status, 'FAIL');
    assert.equal(provider.served.requests, 1);
    assert.equal(r.gateway.refused, 0);
    assert.ok(r.costUsd <= 0.01 + 0.0105 + 1e-12);
  });

  it('claude-code whose own budget flag is lax: the gateway refuses call 2, stops the container, outcome budget_exceeded', async () => {
    const r = await runAgentSandbox({
      root: repo, plan: makePlan('claude-code', 3), agent: 'claude-code', model: 'claude-sonnet-4-5', maxTurns: 6, budgetUsd: 0.01, agentBudgetUsd: 5,
      image, prices: PriceTable.withOverrides(), keys: { anthropic: REAL_KEY }, upstreams: { anthropic: provider.url },
    });
    assert.equal(r.outcome, 'budget_exceeded', JSON.stringify(r.agent));
    assert.equal(r.sandbox.status, 'FAIL');
    assert.equal(provider.served.requests, 1, 'the refused call never reached the provider');
    assert.ok(r.gateway.refused >= 1);
    assert.equal(r.sandbox.container?.status, 'killed', 'the gateway had the container stopped');
    assert.match(r.sandbox.reasons.join('\n'), /model budget of \$0\.01 was spent/);
    assert.ok(r.costUsd <= 0.01 + 0.0105 + 1e-12);
  });
});
