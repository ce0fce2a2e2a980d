import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { PriceTable } from '../../../src/core/config/prices';
import type { FactoryConfig } from '../../../src/core/config/schema';
import type { Plan } from '../../../src/core/contracts/plan';
import type { HistoryLine, SpendEntry } from '../../../src/core/contracts/history-entry';
import { monthOf } from '../../../src/core/cycle/cost-summary';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import { runCycle, type CycleEvent, type CycleOutcome } from '../../../src/core/cycle/orchestrator';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider, toolThenDone, type RecordedRequest } from '../../support/scripted-provider';
import { claudeWrite, codexShellWrite, requestsByModel } from '../../support/scripted-scripts';
import { ensureAgentsImage } from '../gateway/helpers';
import { build, cleanup, containersCreated, containersOf, exampleRepo, git, replayDir, D302_INVENTORY as INVENTORY } from './helpers';

/** One key per provider: each CLI must reach its own provider with its own key, injected by its gateway. */
const KEYS = { anthropic: 'sk-ant-routing-test-worker-key-7c21', openai: 'sk-openai-routing-test-auditor-key-4b90' };
const USAGE = { input: 1000, output: 500 };
const WORKER = { agent: 'claude-code', model: 'claude-sonnet-4-5', tier: 'standard' };
const AUDITOR = { agent: 'codex', model: 'gpt-5', tier: 'premium' };


/** The Codex Auditor's verdict (the gateway's meter replaces its cost claim). */
const AUDIT_REPORT = JSON.stringify({ ticket_id: 'D302', verdict: 'PASS', violations: [], summary: 'InventoryLimit only, in scope; no PnL, no SSOT edit.', model: 'gpt-5', cost_usd: 0 });

const prices = PriceTable.withOverrides();
/** USD of `n` calls of the scripted usage on `model`, by the price table. */
function costOf(model: string, n: number): number {
  const price = prices.lookup(model);
  assert.ok(price, `${model} has a price`);
  return n * PriceTable.cost({ inputTokens: USAGE.input, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: USAGE.output }, price);
}

const near = (a: number | undefined, b: number, what: string, eps = 1e-9) => assert.ok(a !== undefined && Math.abs(a - b) <= eps, `${what}: ${a} ≠ ${b}`);

/**
 * The example repository with `routing` (and `edit`'s other changes) in its committed
 * .factory/config.json, so the table goes through the config's own validation.
 */
async function routedRepo(routing: Record<string, unknown>, edit: (c: Record<string, unknown>) => void = () => {}): Promise<{ repo: string; config: FactoryConfig }> {
  const repo = exampleRepo();
  const file = path.join(repo, '.factory', 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { worker: Record<string, unknown> };
  // No global override: the table decides.
  delete c.worker.agent;
  delete c.auditor;
  c.routing = routing;
  edit(c);
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + '\n');
  git(repo, 'commit', '-qam', 'routing table');
  return { repo, config: (await loadConfigStrict(repo)).config };
}

/** The route choice of a role in plan.json, minus its reasons. */
const route = (r: { agent: string; model: string; tier: string } | undefined) => r && { agent: r.agent, model: r.model, tier: r.tier };

/** The role's spend entries expected from what the provider was asked: one per model. */
function expectedSpend(role: SpendEntry['role'], r: typeof WORKER, requests: readonly RecordedRequest[]) {
  return [...requestsByModel(requests)]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, n]) => ({ role, agent: r.agent, model, tier: r.tier, tokens: { in: n * USAGE.input, out: n * USAGE.output }, requests: n, costUsd: costOf(model, n), priced: true }));
}

function assertSpend(line: HistoryLine, role: SpendEntry['role'], expected: ReturnType<typeof expectedSpend>): void {
  const got = (line.spend ?? []).filter((s) => s.role === role).sort((a, b) => (a.model ?? '').localeCompare(b.model ?? ''));
  assert.deepEqual(got.map((s) => ({ ...s, costUsd: 0 })), expected.map((s) => ({ ...s, costUsd: 0 })), `${role} spend entries`);
  got.forEach((s, i) => near(s.costUsd, expected[i].costUsd, `${role} ${s.model} costUsd = price table × scripted usage`));
}

function planOf(events: CycleEvent[]): Plan {
  const e = events.find((x): x is Extract<CycleEvent, { type: 'plan' }> => x.type === 'plan');
  assert.ok(e, 'a plan event');
  return e.plan;
}

/**
 * Issue 16 "Done when": a Docker-tier cycle where the Auditor runs on a different agent, provider
 * and model than the Worker, chosen by the config's routing table — the REAL Claude Code CLI as
 * Worker (Anthropic Messages) and the REAL Codex CLI as Auditor (OpenAI Responses), each through
 * its own real gateway to the scripted provider — and both spends land in history, the month's
 * cost summary and the evidence. Then: an Auditor reserve the budget cannot hold ends the cycle
 * BLOCKED before any container of the run exists.
 */
describe('cost gate: routed Worker and Auditor on different agents and models (real CLIs, scripted model)', function () {
  this.timeout(20 * 60_000);
  let image: string;

  before(function () {
    requireDocker(this);
    image = ensureAgentsImage();
    build();
  });
  after(cleanup);

  describe('HIGH ticket: Worker claude-code/claude-sonnet-4-5, Auditor codex/gpt-5', () => {
    let anthropic: ScriptedProvider;
    let openai: ScriptedProvider;
    let repo: string;
    let config: FactoryConfig;
    let o: CycleOutcome;
    const events: CycleEvent[] = [];
    let t0: Date;

    before(async function () {
      this.timeout(20 * 60_000);
      if (!image) return this.skip();
      // The Worker's Claude Code writes engine/inventory.py; the Auditor's Codex writes its verdict with its shell tool.
      anthropic = await ScriptedProvider.start({ script: toolThenDone(claudeWrite('/workspace/engine/inventory.py', INVENTORY), USAGE, 'Done: InventoryLimit added.'), expectedKey: KEYS.anthropic });
      openai = await ScriptedProvider.start({ script: toolThenDone(codexShellWrite('/factory/out/audit_report.json', AUDIT_REPORT), USAGE, 'Verdict: PASS.'), expectedKey: KEYS.openai });
      ({ repo, config } = await routedRepo({
        tiers: { standard: { agent: WORKER.agent, model: WORKER.model } },
        levels: { HIGH: { worker: 'standard', auditor: { agent: AUDITOR.agent, model: AUDITOR.model } } },
      }));
      config.worker.image = image;
      config.gateway.upstreams = { anthropic: anthropic.url, openai: openai.url };
      // No model here: the model each CLI runs on comes from the routing table.
      config.agents = { 'claude-code': { maxTurns: 6, args: [] }, codex: { args: [] } };
      t0 = new Date();
      o = await runCycle({ root: repo, ticket: 'D302', config, keys: KEYS }, { onEvent: (e) => events.push(e) });
    });
    after(async () => {
      await anthropic?.close();
      await openai?.close();
    });

    it('PASS is committed, with the Auditor\'s PASS verdict', () => {
      assert.equal(o.status, 'PASS', o.reasons.join('; '));
      assert.deepEqual(o.changes, [{ path: 'engine/inventory.py', kind: 'added' }]);
      assert.equal(fs.readFileSync(path.join(repo, 'engine/inventory.py'), 'utf8'), INVENTORY);
      assert.equal(o.audit?.verdict, 'PASS', 'the HIGH-risk cycle called the Auditor');
      assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
      const ledger = parseLedger(fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8'), 'L');
      assert.deepEqual(ledger.acs.filter((a) => a.ticketId === 'D302').map((a) => a.status), ['DONE', 'DONE']);
      // The commit's Cost line names each role's model.
      const msg = git(repo, 'log', '-1', '--format=%B');
      assert.match(msg, /^factory: D302 PASS/);
      assert.match(msg, /Cost: [^\n]*claude-sonnet-4-5/);
      assert.match(msg, /Cost: [^\n]*gpt-5/);
    });

    it('plan.json names both routes (agent, model, tier, why) and the Auditor reserve', () => {
      const plan = JSON.parse(fs.readFileSync(cyclePaths(repo, config).plan, 'utf8')) as Plan;
      assert.deepEqual(plan, planOf(events), 'the plan event is the plan on disk');
      assert.equal(plan.risk_level, 'HIGH');
      assert.equal(plan.agent, WORKER.agent);
      assert.equal(plan.model, WORKER.model);
      assert.equal(plan.model_budget, WORKER.tier);
      assert.deepEqual(route(plan.routing?.worker), WORKER);
      assert.deepEqual(route(plan.routing?.auditor), AUDITOR);
      assert.match(plan.routing?.worker.why.join('\n') ?? '', /HIGH/, 'the Worker route says which rule chose it');
      assert.ok((plan.routing?.auditor?.why.length ?? 0) > 0, 'the Auditor route says which rule chose it');
      assert.equal(plan.routing?.override, undefined, 'no override: the table decided');
      // The default reserve: the Auditor model's price × routing.auditReserve's tokens (50,000 in, 5,000 out).
      const p = prices.lookup(AUDITOR.model)!;
      near(plan.routing?.reserve_usd, (50_000 * p.inputPerMTok + 5_000 * p.outputPerMTok) / 1e6, 'reserve_usd');
    });

    it('each CLI reached its own provider on its routed model with its own key; the Auditor ran on Codex', () => {
      assert.ok(anthropic.requests.length >= 2 && anthropic.requests.some((r) => r.hasToolResult), 'Claude Code went round its tool loop');
      assert.ok(openai.requests.length >= 2 && openai.requests.some((r) => r.hasToolResult), 'Codex ran its shell tool and sent the result back');
      assert.ok(anthropic.requests.every((r) => r.api === 'anthropic' && r.key === KEYS.anthropic), 'the Worker: Anthropic Messages, Anthropic key');
      assert.ok(openai.requests.every((r) => r.api === 'openai-responses' && r.key === KEYS.openai), 'the Auditor: OpenAI Responses, OpenAI key');
      assert.ok(requestsByModel(anthropic.requests).has(WORKER.model), `Worker models: ${[...requestsByModel(anthropic.requests).keys()]}`);
      assert.deepEqual([...requestsByModel(openai.requests).keys()], [AUDITOR.model]);
      const isAuditor = (r: RecordedRequest) => JSON.stringify(r.body).includes('You are the Auditor');
      assert.ok(openai.requests.every(isAuditor), 'every OpenAI request is the Auditor\'s');
      assert.ok(!anthropic.requests.some(isAuditor), 'no Anthropic request is the Auditor\'s');
      assert.equal(anthropic.served.requests, anthropic.requests.length);
      assert.equal(openai.served.requests, openai.requests.length);
    });

    it('history: spend per role × model (agent, model, tier, tokens, requests, costUsd = price table × usage), adding up to the cycle cost', () => {
      const line = readHistory(cyclePaths(repo, config).history).records.at(-1);
      assert.ok(line);
      assert.equal(line.runId, o.runId);
      assert.equal(line.status, 'PASS');
      assert.equal(line.agent, WORKER.agent);
      assert.equal(line.model, WORKER.model);
      assertSpend(line, 'worker', expectedSpend('worker', WORKER, anthropic.requests));
      assertSpend(line, 'auditor', expectedSpend('auditor', AUDITOR, openai.requests));
      assert.deepEqual([...new Set(line.spend?.map((s) => s.role))].sort(), ['auditor', 'worker']);
      const total = costOf(WORKER.model, anthropic.requests.length) + costOf(AUDITOR.model, openai.requests.length);
      // (Claude Code asked only for its routed model here; the line above fails first if it did not.)
      near(line.costUsd, total, 'history costUsd');
      near(o.costUsd, total, 'outcome costUsd');
      // The live spend events' last totals per role are the recorded ones.
      for (const role of ['worker', 'auditor'] as const) {
        const last = events.filter((e): e is Extract<CycleEvent, { type: 'spend' }> => e.type === 'spend' && e.role === role).at(-1);
        assert.ok(last, `a spend event of the ${role}`);
        const sum = (l: SpendEntry[]) => l.reduce((s, x) => s + x.costUsd, 0);
        near(sum(last.spend), sum((line.spend ?? []).filter((s) => s.role === role)), `${role} spend event total`);
      }
    });

    it("the month's cost summary has both models in byModel, worker and auditor in byRole, both tiers in byTier", () => {
      const line = readHistory(cyclePaths(repo, config).history).records.at(-1)!;
      const summary = JSON.parse(fs.readFileSync(cyclePaths(repo, config).costSummary(monthOf(line.endedAt!)), 'utf8'));
      const worker = costOf(WORKER.model, anthropic.requests.length);
      const auditor = costOf(AUDITOR.model, openai.requests.length);
      near(summary.byModel[WORKER.model]?.costUsd, worker, 'byModel worker model', 1e-6);
      near(summary.byModel[AUDITOR.model]?.costUsd, auditor, 'byModel auditor model', 1e-6);
      near(summary.byRole?.worker?.costUsd, worker, 'byRole worker', 1e-6);
      near(summary.byRole?.auditor?.costUsd, auditor, 'byRole auditor', 1e-6);
      assert.equal(summary.byRole?.unattributed, undefined, 'the spend entries cover the whole cost');
      near(summary.byTier?.[WORKER.tier]?.costUsd, worker, 'byTier standard', 1e-6);
      near(summary.byTier?.[AUDITOR.tier]?.costUsd, auditor, 'byTier premium', 1e-6);
      near(summary.totalUsd, worker + auditor, 'totalUsd', 1e-6);
    });

    it("the evidence's gateway.jsonl holds both roles' metered calls (no key), adding up to the cycle cost", () => {
      assert.ok(o.evidencePath);
      const text = fs.readFileSync(path.join(repo, o.evidencePath, 'gateway.jsonl'), 'utf8');
      for (const k of Object.values(KEYS)) assert.ok(!text.includes(k), 'no key in the evidence');
      const calls = text.trim().split('\n').map((l) => JSON.parse(l) as { role?: string; model?: string; costUsd: number; status: number });
      const of = (role: string) => calls.filter((c) => c.role === role);
      assert.equal(of('worker').length, anthropic.requests.length, 'one record per Worker call');
      assert.equal(of('auditor').length, openai.requests.length, 'one record per Auditor call');
      assert.ok(of('auditor').every((c) => c.model === AUDITOR.model && c.status === 200));
      assert.ok(of('worker').some((c) => c.model === WORKER.model));
      near(calls.reduce((s, c) => s + c.costUsd, 0), o.costUsd, 'gateway.jsonl total');
      const kpi = JSON.parse(fs.readFileSync(path.join(repo, o.evidencePath, 'kpi.json'), 'utf8'));
      near(kpi.cost_usd, o.costUsd, 'kpi cost_usd');
    });

    it('the run created a Worker, Gate and Auditor container, and none is left', () => {
      const roles = new Set(containersCreated(o.runId, t0).map((c) => c.role));
      for (const r of ['worker', 'gate', 'auditor']) assert.ok(roles.has(r), `a ${r} container was created (${[...roles]})`);
      assert.deepEqual(containersOf(o.runId), []);
    });
  });

  it('an Auditor reserve that does not fit the cycle budget ends BLOCKED (with the reason) before any container of the run starts', async () => {
    const { repo, config } = await routedRepo(
      {
        tiers: { standard: { agent: 'replay', model: WORKER.model } },
        levels: { HIGH: { worker: 'standard', auditor: { agent: 'replay', model: AUDITOR.model } } },
        auditReserve: { usd: 1.5 },
      },
      (c) => ((c.killSwitch as Record<string, unknown>).budgetUsd = 1),
    );
    // Were the Worker to start, it would write the change and the Auditor would pass it.
    const replays = replayDir({
      'D302.json': { steps: [{ op: 'write', path: 'engine/inventory.py', content: INVENTORY }] },
      'D302.audit.json': { steps: [{ op: 'write', path: '/factory/out/audit_report.json', content: AUDIT_REPORT }] },
    });
    const before = git(repo, 'rev-parse', 'HEAD').trim();
    const events: CycleEvent[] = [];
    const t0 = new Date();
    const o = await runCycle({ root: repo, ticket: 'D302', config, replayDir: replays }, { onEvent: (e) => events.push(e) });
    assert.equal(o.status, 'BLOCKED', o.reasons.join('; '));
    assert.equal(o.blocked, true);
    assert.match(o.reasons.join('\n'), /reserve[^\n]*\$1\.50/i, 'the reason names the reserve');
    assert.equal(o.audit, null, 'never an unaudited PASS, nor an audit');
    assert.deepEqual(o.changes, []);
    assert.equal(o.costUsd, 0);
    const plan = planOf(events);
    assert.equal(plan.routing?.reserve_usd, 1.5);
    assert.deepEqual(route(plan.routing?.auditor), { agent: 'replay', model: AUDITOR.model, tier: AUDITOR.tier });
    assert.deepEqual(containersCreated(o.runId, t0), [], 'no container of the run was created');
    assert.ok(!fs.existsSync(path.join(repo, 'engine/inventory.py')), 'nothing applied');
    assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D302 \|[^\n]*\| BLOCKED \([^\n]*reserve[^\n]*\) \|$/im);
    assert.match(git(repo, 'log', '-1', '--format=%s'), /^factory: D302 BLOCKED/);
    assert.equal(git(repo, 'rev-parse', 'HEAD~1').trim(), before, 'one BLOCKED commit on top');
    const ledger = parseLedger(fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8'), 'L');
    assert.ok(ledger.acs.filter((a) => a.ticketId === 'D302').every((a) => a.status !== 'IN_PROGRESS' && a.status !== 'DONE'), 'no AC left in progress or done');
    const line = readHistory(cyclePaths(repo, config).history).records.at(-1);
    assert.equal(line?.runId, o.runId);
    assert.equal(line?.status, 'BLOCKED');
    assert.match([...(line?.reasons ?? []), line?.blockedReason ?? ''].join('\n'), /reserve/i);
    assert.equal((line?.spend ?? []).filter((s) => s.role !== 'controller').length, 0, 'no Worker or Auditor spend');
  });
});
