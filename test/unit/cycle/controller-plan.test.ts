import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { readHistory } from '../../../src/core/history/history';
import { controllerSkippedLine } from '../../../src/core/cycle/derive-inputs';
import { dryRun } from '../../../src/core/cycle/dry-run';
import { cyclePaths, preparePlan } from '../../../src/core/cycle/orchestrator';
import { emptyOutcome } from '../../../src/core/cycle/cycle-types';
import { record } from '../../../src/core/cycle/phases/record';
import { writePlan } from '../../../src/core/cycle/write-plan';
import { ScriptedProvider, type Script } from '../../support/scripted-provider';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');
const KEY = 'sk-controller-plan-key-0123456789';
const MODEL = 'claude-sonnet-4-5';
const KEYS = { anthropic: KEY };

/** The model's answer as the review asks for it. */
const answer = (modify: Array<[string, string]>, readonly: Array<[string, string]> = []) =>
  JSON.stringify({ modify: modify.map(([p, reason]) => ({ path: p, reason })), readonly: readonly.map(([p, reason]) => ({ path: p, reason })) });

/**
 * Issue 15 item 3 wired into PLAN: a real cycle's preparePlan (the `review` option only runCycle
 * passes) asks the configured Controller model, through the real metered gateway and the scripted
 * provider on loopback, to review the derived scope; `factory dry` and `factory plan` never ask.
 */
describe('PLAN: the Controller model reviews the derived scope (real cycle only)', () => {
  let tmp: string;
  let repo: string;
  let provider: ScriptedProvider;
  let script: Script;

  before(() => {
    // A top-level Python package (no src/), as in prepare-plan.test.ts: D201 derives quant/pricing.py and its test.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-ctl-plan-'));
    repo = path.join(tmp, 'quantlib');
    fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (s) => !s.includes(`${path.sep}replays`) && !s.includes(`${path.sep}.factory`) });
    fs.renameSync(path.join(repo, 'engine'), path.join(repo, 'quant'));
    const ledgerFile = path.join(repo, 'docs/v2/design/AC_LEDGER.md');
    fs.writeFileSync(ledgerFile, fs.readFileSync(ledgerFile, 'utf8').replaceAll('scope: engine/pricing.py, tests/test_pricing.py', 'quote() lives in `quant.pricing`').replaceAll('engine', 'quant'));
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...a], { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  beforeEach(async () => {
    script = () => ({ text: answer([['quant/pricing.py', 'quote() is defined here']], [['quant/fees.py', 'quote() adds its fee']]), usage: { input: 2000, output: 300 } });
    provider = await ScriptedProvider.start({ script: (r, i) => script(r, i), expectedKey: KEY });
  });
  afterEach(() => provider.close());

  async function configWith(model: string | undefined): Promise<FactoryConfig> {
    const { config } = await loadConfigStrict(repo);
    config.controller = { ...config.controller, ...(model ? { model } : {}) };
    config.gateway.upstreams = { anthropic: provider.url };
    return config;
  }

  it('with controller.model set, the model narrows the derived scope; the reasons say "Controller model …" and the spend is role controller', async () => {
    const derived = (await preparePlan(repo, await configWith(undefined), { ticket: 'D201' })).built.plan;
    assert.deepEqual(derived.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py'], 'the derived scope, before any review');

    const { built, controller } = await preparePlan(repo, await configWith(MODEL), { ticket: 'D201', review: { keys: KEYS } });
    const p = built.plan;
    assert.deepEqual(p.scope.modify, ['quant/pricing.py'], JSON.stringify(p.scope));
    assert.ok(p.scope.readonly.includes('quant/fees.py'), JSON.stringify(p.scope));
    assert.ok(p.scope_reasons?.['quant/pricing.py']?.includes(`Controller model ${MODEL}: quote() is defined here`), JSON.stringify(p.scope_reasons));
    assert.ok(p.scope_reasons?.['quant/pricing.py']?.some((r) => r.includes('D201::AC-2')), 'the derived evidence it kept stays beside the model\'s reason');
    assert.deepEqual(p.scope.forbidden, derived.scope.forbidden, 'the forbidden list stays as derived');
    // One call through the gateway with the host key and the ticket's derived candidates in the prompt.
    assert.equal(provider.requests.length, 1);
    assert.equal(provider.requests[0].key, KEY);
    assert.ok(JSON.stringify(provider.requests[0].body).includes('tests/test_pricing.py'));
    const expected = (2000 * 3 + 300 * 15) / 1e6; // claude-sonnet-4-5's built-in price
    assert.ok(controller && Math.abs(controller.costUsd - expected) < 1e-12, JSON.stringify(controller));
    // One entry per model metered (no agent: the Controller's own model), with its tier from the price table.
    assert.deepEqual(controller.spend, [{ role: 'controller', model: MODEL, tier: 'standard', tokens: { in: 2000, out: 300 }, requests: 1, costUsd: controller.costUsd, priced: true }]);
    assert.equal(controller.records.length, 1);
  });

  it('without controller.model no call is made, and the plan is the derived one', async () => {
    const { built, controller } = await preparePlan(repo, await configWith(undefined), { ticket: 'D201', review: { keys: KEYS } });
    assert.deepEqual(built.plan.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py']);
    assert.equal(controller, undefined);
    assert.equal(provider.requests.length, 0);
  });

  it('factory dry and factory plan never ask it (no spend outside a cycle), and say so', async () => {
    const config = await configWith(MODEL);
    const d = await dryRun(repo, config, { ticket: 'D201' });
    assert.deepEqual(d.plan.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py']);
    const { built } = await writePlan(repo, config, { ticket: 'D201' });
    assert.deepEqual(built.plan.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py']);
    assert.equal(provider.requests.length, 0);
    assert.equal(controllerSkippedLine(config, 'factory dry'), `Controller model ${MODEL}: not asked by factory dry (it spends nothing); factory run asks it to review this scope`);
    assert.equal(controllerSkippedLine(await configWith(undefined), 'factory dry'), undefined);
  });

  it('a failed review never fails the plan: the derived scope stays; a ticket the retry cap blocks is not reviewed at all', async () => {
    script = () => ({ text: 'I cannot help with that.', usage: { input: 500, output: 20 } });
    const failed = await preparePlan(repo, await configWith(MODEL), { ticket: 'D201', review: { keys: KEYS } });
    assert.deepEqual(failed.built.plan.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py']);
    assert.ok(!JSON.stringify(failed.built.plan.scope_reasons).includes('Controller model'));
    assert.ok((failed.controller?.costUsd ?? 0) > 0, 'what the failed review cost is still reported');
    assert.equal(failed.controller?.spend[0]?.role, 'controller');

    const skipped = await preparePlan(repo, await configWith(MODEL), { ticket: 'D201', review: { keys: KEYS, skipTicket: (t) => t === 'D201' } });
    assert.equal(skipped.controller, undefined);
    assert.equal(provider.requests.length, 1, 'only the failed review reached the provider');
  });

  it('the history line carries the spend (costUsd stays the total) and the cost summary counts it under byRole.controller', async () => {
    const config = await configWith(MODEL);
    const { built, controller } = await preparePlan(repo, config, { ticket: 'D201', review: { keys: KEYS } });
    assert.ok(controller);
    const paths = cyclePaths(repo, config);
    fs.mkdirSync(paths.autopilot, { recursive: true });
    const outcome = emptyOutcome(built.plan);
    outcome.costUsd = controller.costUsd + 0.5;
    outcome.spend = controller.spend;
    const summaryFile = await record(paths, built.plan, outcome, 'FAIL', () => new Date('2026-12-05T12:00:00Z'));
    const line = readHistory(paths.history).records.at(-1);
    assert.equal(line?.costUsd, controller.costUsd + 0.5);
    assert.deepEqual(line?.spend, controller.spend);
    const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as { byRole: Record<string, { cycles: number; costUsd: number }> };
    assert.deepEqual(summary.byRole.controller, { cycles: 1, costUsd: Math.round(controller.costUsd * 1e6) / 1e6 });
    assert.equal(summary.byRole.unattributed?.costUsd, 0.5);
  });
});
