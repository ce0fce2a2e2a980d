import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import type { FactoryConfig } from '../../../src/core/config/schema';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import { runCycle, type CycleEvent } from '../../../src/core/cycle/orchestrator';
import { readHistory } from '../../../src/core/history/history';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider } from '../../support/scripted-provider';
import { build, cleanup, containersOf, exampleRepo, git, replayDir, D302_INVENTORY as INVENTORY } from './helpers';

/** Each scripted call: 10,000 tokens in, 1,000 out. On claude-opus-4-5 $0.075, on claude-sonnet-4-5 $0.045. */
const USAGE = { input: 10_000, output: 1_000 };
const KEYS = { anthropic: 'sk-ant-budget-reserve-test-key-51e0' };
const AUDIT_PASS = JSON.stringify({ ticket_id: 'D302', verdict: 'PASS', violations: [], summary: 'fine', model: 'claude-opus-4-5', cost_usd: 0 });
/** A recorded model call on the routed model (the replay agent fills in `{{model}}`). */
const call = { op: 'call', provider: 'anthropic', path: '/v1/messages', body: { model: '{{model}}', max_tokens: 100, messages: [{ role: 'user', content: 'check' }] } };

/** The example repository with a replay-only routing table, a $0.10 cycle budget and a $0.05 Auditor reserve. */
async function budgetRepo(provider: ScriptedProvider, budgetUsd = 0.1): Promise<{ repo: string; config: FactoryConfig }> {
  const repo = exampleRepo();
  const file = path.join(repo, '.factory', 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  delete c.worker.agent;
  delete c.auditor;
  c.routing = {
    tiers: { standard: { agent: 'replay', model: 'claude-sonnet-4-5' } },
    levels: { HIGH: { worker: 'standard', auditor: { agent: 'replay', model: 'claude-opus-4-5' } } },
    auditReserve: { usd: 0.05 },
  };
  c.killSwitch.budgetUsd = budgetUsd;
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + '\n');
  git(repo, 'commit', '-qam', 'budget and reserve');
  const { config } = await loadConfigStrict(repo);
  config.gateway.upstreams = { anthropic: provider.url };
  return { repo, config };
}

/**
 * One budget per cycle (issue 16 item 4) through real gateways and containers: the Worker's
 * gateway holds back the Auditor's reserve, and an Auditor that runs out of what is left ends the
 * cycle BLOCKED as a budget cap — never its (non-)verdict, never an unaudited PASS.
 */
describe('cost gate: one cycle budget with the Auditor reserve (real engine, scripted model)', function () {
  this.timeout(10 * 60_000);
  let provider: ScriptedProvider;

  before(async function () {
    requireDocker(this);
    build();
    provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: USAGE }), expectedKey: KEYS.anthropic });
  });
  after(async () => {
    await provider?.close();
    cleanup();
  });

  it('an Auditor that runs out of the budget left after the Worker ends the cycle BLOCKED (budget cap), nothing applied, its spend recorded', async () => {
    const { repo, config } = await budgetRepo(provider);
    const before = provider.requests.length;
    // The Worker spends nothing; the Auditor calls three times at $0.075: the third is refused ($0.15 ≥ $0.10).
    const replays = replayDir({
      'D302.json': { steps: [{ op: 'write', path: 'engine/inventory.py', content: INVENTORY }] },
      'D302.audit.json': { steps: [call, call, call, { op: 'write', path: '/factory/out/audit_report.json', content: AUDIT_PASS }] },
    });
    const events: CycleEvent[] = [];
    const o = await runCycle({ root: repo, ticket: 'D302', config, replayDir: replays, keys: KEYS }, { onEvent: (e) => events.push(e) });
    assert.equal(o.status, 'BLOCKED', o.reasons.join('; '));
    assert.equal(o.blocked, true);
    assert.match(o.reasons.join('\n'), /budget cap: the Auditor ran out of the cycle budget \(\$0\.1500 of \$0\.10 spent\)/);
    assert.ok(!o.reasons.some((r) => r.startsWith('Auditor verdict')), 'not an Auditor FAIL');
    assert.equal(o.audit, null, 'no verdict recorded for an Auditor stopped by the budget');
    assert.ok(!fs.existsSync(path.join(repo, 'engine/inventory.py')), 'nothing applied');
    assert.equal(provider.requests.length - before, 2, 'the gateway refused the third call before the provider saw it');
    assert.ok(Math.abs(o.costUsd - 0.15) < 1e-9, `cost ${o.costUsd}`);
    assert.match(fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8'), /^\| D302 \|[^\n]*\| BLOCKED \(budget cap[^\n]*\) \|$/im);
    const ledger = parseLedger(fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8'), 'L');
    assert.ok(ledger.acs.filter((a) => a.ticketId === 'D302').every((a) => a.status !== 'IN_PROGRESS' && a.status !== 'DONE'), 'the IN_PROGRESS marking restored');
    const line = readHistory(cyclePaths(repo, config).history).records.at(-1);
    assert.equal(line?.status, 'BLOCKED');
    assert.equal(line?.model, 'claude-sonnet-4-5', "the line's model is the Worker's");
    assert.deepEqual(line?.spend, [{ role: 'auditor', agent: 'replay', model: 'claude-opus-4-5', tier: 'premium', tokens: { in: 20_000, out: 2_000 }, requests: 2, costUsd: 0.15, priced: true }]);
    const live = events.filter((e): e is Extract<CycleEvent, { type: 'spend' }> => e.type === 'spend' && e.role === 'auditor');
    assert.ok(live.length >= 2, 'a live spend event per metered Auditor call, and one at its end');
    assert.deepEqual(live.at(-1)?.spend, line?.spend);
    assert.match(git(repo, 'log', '-1', '--format=%B'), /^factory: D302 BLOCKED[\s\S]*\nCost: \$0\.1500 \(worker replay claude-sonnet-4-5 \$0\.0000 metered; auditor replay claude-opus-4-5 \$0\.1500; risk HIGH\)\n/);
    assert.deepEqual(containersOf(o.runId), []);
  });

  it("the Worker's gateway holds the Auditor's reserve back: its budget is B − R, and the cap reason says so", async () => {
    const { repo, config } = await budgetRepo(provider);
    const before = provider.requests.length;
    // $0.045 a call on the Worker's sonnet: admitted at $0 and $0.045 (< $0.05 = B − R), refused at $0.09.
    const replays = replayDir({
      'D302.json': { steps: [call, call, call, { op: 'write', path: 'engine/inventory.py', content: INVENTORY }] },
      'D302.audit.json': { steps: [{ op: 'write', path: '/factory/out/audit_report.json', content: AUDIT_PASS }] },
    });
    const o = await runCycle({ root: repo, ticket: 'D302', config, replayDir: replays, keys: KEYS });
    assert.equal(o.status, 'BLOCKED', o.reasons.join('; '));
    assert.equal(provider.requests.length - before, 2);
    assert.ok(o.reasons.includes('budget cap: the cycle spent $0.0900 of $0.10 ($0.0500 of it held back for the Auditor); the gateway refused further calls'), o.reasons.join('; '));
    assert.equal(o.audit, null, 'the Auditor is not paid for a Worker that failed');
    const line = readHistory(cyclePaths(repo, config).history).records.at(-1);
    assert.deepEqual(line?.spend, [{ role: 'worker', agent: 'replay', model: 'claude-sonnet-4-5', tier: 'standard', tokens: { in: 20_000, out: 2_000 }, requests: 2, costUsd: 0.09, priced: true }]);
  });

  it('a cycle interrupted while the Worker runs is ABORTED with the Worker\'s metered spend so far (live spend event, then the history line)', async () => {
    const { repo, config } = await budgetRepo(provider, 1);
    const replays = replayDir({ 'D302.json': { steps: [call, { op: 'sleep', ms: 60_000 }, { op: 'write', path: 'engine/inventory.py', content: INVENTORY }] } });
    const stop = new AbortController();
    const events: CycleEvent[] = [];
    const onEvent = (e: CycleEvent) => {
      events.push(e);
      // The Worker's first call is metered: interrupt the cycle (as Ctrl-C or the editor's Stop would).
      if (e.type === 'spend' && e.role === 'worker') stop.abort();
    };
    await assert.rejects(runCycle({ root: repo, ticket: 'D302', config, replayDir: replays, keys: KEYS }, { onEvent, signal: stop.signal }), /interrupt|abort/i);
    const line = readHistory(cyclePaths(repo, config).history).records.at(-1);
    assert.equal(line?.status, 'ABORTED');
    assert.deepEqual(line?.spend, [{ role: 'worker', agent: 'replay', model: 'claude-sonnet-4-5', tier: 'standard', tokens: { in: 10_000, out: 1_000 }, requests: 1, costUsd: 0.045, priced: true }]);
    assert.ok(Math.abs((line?.costUsd ?? 0) - 0.045) < 1e-9, 'the ABORTED line costs what the Worker spent');
    assert.ok(!fs.existsSync(path.join(repo, 'engine/inventory.py')));
  });

  it('a cycle stopped while its Gate runs is ABORTED, never the Worker\'s FAIL (a Gate cut short is not a red Gate)', async () => {
    const { repo, config } = await budgetRepo(provider, 1);
    const replays = replayDir({ 'D302.json': { steps: [{ op: 'write', path: 'engine/inventory.py', content: INVENTORY }] } });
    const stop = new AbortController();
    // CHECK begins with the Gate: stop there (Ctrl-C, Stop Worker, `factory stop --run`).
    const onEvent = (e: CycleEvent) => void (e.type === 'phase' && e.phase === 'CHECK' && stop.abort());
    await assert.rejects(runCycle({ root: repo, ticket: 'D302', config, replayDir: replays, keys: KEYS }, { onEvent, signal: stop.signal }), /interrupt/i);
    const lines = readHistory(cyclePaths(repo, config).history).records;
    assert.deepEqual(lines.map((l) => l.status), ['ABORTED'], 'one line, ABORTED: no FAIL counted against the ticket');
    assert.ok(!fs.existsSync(path.join(repo, 'engine/inventory.py')), 'nothing applied');
  });

  it("a PASS within budget: the evidence's result.json carries the metered Worker cost (the Worker's claim beside it), kpi.json the cycle total by role", async () => {
    const { repo, config } = await budgetRepo(provider, 1);
    const replays = replayDir({
      'D302.json': { steps: [call, { op: 'write', path: 'engine/inventory.py', content: INVENTORY }] },
      'D302.audit.json': { steps: [call, { op: 'write', path: '/factory/out/audit_report.json', content: AUDIT_PASS }] },
    });
    const o = await runCycle({ root: repo, ticket: 'D302', config, replayDir: replays, keys: KEYS });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.ok(o.evidencePath);
    const ev = path.join(repo, o.evidencePath);
    const result = JSON.parse(fs.readFileSync(path.join(ev, 'result.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(result.ticket_id, 'D302');
    assert.ok(Math.abs((result.cost_estimate_usd as number) - 0.045) < 1e-9, `result.json cost_estimate_usd ${String(result.cost_estimate_usd)}`);
    assert.equal(typeof result.cost_claimed_by_worker_usd, 'number', "the Worker's own figure is kept beside it");
    const kpi = JSON.parse(fs.readFileSync(path.join(ev, 'kpi.json'), 'utf8')) as { cost_usd: number; cost_by_role: Record<string, number> };
    assert.ok(Math.abs(kpi.cost_usd - 0.12) < 1e-9, `kpi cost_usd ${kpi.cost_usd}`);
    assert.deepEqual(kpi.cost_by_role, { worker: 0.045, auditor: 0.075 });
    const roles = fs.readFileSync(path.join(ev, 'gateway.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { role: string }).role);
    assert.deepEqual(roles, ['worker', 'auditor']);
  });
});
