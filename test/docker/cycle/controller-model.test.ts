import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { planSchema } from '../../../src/core/contracts/plan';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { readHistory } from '../../../src/core/history/history';
import { FactoryError } from '../../../src/core/util/errors';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider } from '../../support/scripted-provider';
import { REPLAYS, build, cleanup, cli, exampleRepo } from './helpers';

const KEY = 'sk-controller-cycle-key-0123456789';
const MODEL = 'claude-sonnet-4-5';

/**
 * Issue 15 item 3 end to end: `runCycle` with `controller.model` set asks the model (the scripted
 * provider on loopback, behind our real gateway) to review the derived scope in PLAN; its spend is
 * part of the cycle's cost, recorded with role controller in history and the cost summary.
 */
describe('PDCA cycle with the Controller model reviewing the scope (issue 15)', function () {
  this.timeout(300_000);
  let provider: ScriptedProvider;
  before(async function () {
    requireDocker(this);
    build();
    const answer = {
      modify: [{ path: 'engine/pricing.py', reason: 'quote() is defined here' }, { path: 'tests/test_pricing.py', reason: 'its tests' }],
      readonly: [{ path: 'engine/fees.py', reason: 'quote() adds its fee' }],
    };
    provider = await ScriptedProvider.start({ script: () => ({ text: JSON.stringify(answer), usage: { input: 3000, output: 400 } }), expectedKey: KEY });
  });
  after(async () => {
    await provider?.close();
    cleanup();
  });

  /** The example with the Controller model on and no per-ticket rule (a person's rule is kept whatever the model says): the scope is derived, then reviewed. */
  async function reviewedRepo() {
    const repo = exampleRepo();
    const { config } = await loadConfigStrict(repo);
    config.scope = { ...config.scope, tickets: [] };
    config.controller = { ...config.controller, model: MODEL };
    config.gateway.upstreams = { anthropic: provider.url };
    return { repo, config };
  }

  it('PASSes with the reviewed scope; history has spend role controller, the cost summary byRole.controller, outcome.costUsd includes it', async () => {
    const { repo, config } = await reviewedRepo();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201', config, keys: { anthropic: KEY } });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.equal(provider.requests.length, 1, 'one review, in PLAN');

    const plan = planSchema.parse(JSON.parse(fs.readFileSync(path.join(repo, 'logs/autopilot/plan.json'), 'utf8')));
    assert.deepEqual(plan.scope.modify, ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.ok(plan.scope.readonly.includes('engine/fees.py'), JSON.stringify(plan.scope));
    assert.ok(plan.scope_reasons?.['engine/fees.py']?.includes(`Controller model ${MODEL}: quote() adds its fee`), JSON.stringify(plan.scope_reasons));

    const cost = (3000 * 3 + 400 * 15) / 1e6; // claude-sonnet-4-5's built-in price
    assert.ok(o.costUsd >= cost - 1e-12, `${o.costUsd}`);
    const line = readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1);
    assert.equal(line?.runId, o.runId);
    assert.equal(line?.costUsd, o.costUsd);
    const [spend, ...more] = line?.spend ?? [];
    // One entry per model metered: no agent (the Controller's own model), its tier from the price table.
    assert.deepEqual({ ...spend, costUsd: 0 }, { role: 'controller', model: MODEL, tier: 'standard', tokens: { in: 3000, out: 400 }, requests: 1, costUsd: 0, priced: true });
    assert.ok(Math.abs((spend?.costUsd ?? 0) - cost) < 1e-12 && !more.length, JSON.stringify(line?.spend));
    const month = (line?.endedAt ?? '').slice(0, 7).replace('-', '');
    const summary = JSON.parse(fs.readFileSync(path.join(repo, `logs/autopilot/cost_summary_${month}.json`), 'utf8')) as { byRole: Record<string, { cycles: number; costUsd: number }> };
    assert.ok((summary.byRole.controller?.costUsd ?? 0) > 0, JSON.stringify(summary.byRole));
    assert.equal(summary.byRole.controller?.costUsd, Math.round(cost * 1e6) / 1e6);
  });

  it('factory dry and factory plan (the CLI) never ask it, and say so', async () => {
    const repo = exampleRepo();
    const file = path.join(repo, '.factory/config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...config, controller: { model: MODEL }, gateway: { upstreams: { anthropic: provider.url } } }, null, 2) + '\n');
    const asked = provider.requests.length;
    const line = new RegExp(`^ *Controller model ${MODEL}: not asked by factory (dry|plan) \\(it spends nothing\\); factory run asks it to review this scope$`, 'm');
    const env = { ANTHROPIC_API_KEY: KEY };
    const dry = await cli(['dry', '--root', repo, '--ticket', 'D201'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, line);
    const plan = await cli(['plan', '--root', repo, '--ticket', 'D201', '--json'], env);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stderr, line);
    assert.ok(!JSON.stringify(JSON.parse(plan.stdout).scope_reasons ?? {}).includes('Controller model'));
    assert.equal(provider.requests.length, asked, 'no request reached the provider');
  });

  it('a host PLAN refuses anyway (an uncommitted change in the derived scope) is refused before the model is paid', async () => {
    const { repo, config } = await reviewedRepo();
    fs.appendFileSync(path.join(repo, 'engine/pricing.py'), '\n# uncommitted work\n');
    const asked = provider.requests.length;
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201', config, keys: { anthropic: KEY } }),
      (e: unknown) => e instanceof FactoryError && e.code === 'scope-dirty' && /engine\/pricing\.py/.test(e.message),
    );
    assert.equal(provider.requests.length, asked, 'no review was bought for a plan that is refused');
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/history.jsonl')), false, 'nothing recorded');
  });
});
