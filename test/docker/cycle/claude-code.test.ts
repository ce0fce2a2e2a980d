import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider, type RecordedRequest, type Script } from '../../support/scripted-provider';
import { ensureAgentsImage } from '../gateway/helpers';
import { build, cleanup, containersOf, exampleRepo, git, D302_INVENTORY as INVENTORY } from './helpers';

const KEY = 'sk-ant-cycle-test-host-key-5d1e';
const USAGE = { input: 1000, output: 500 };


/** The Auditor's verdict on that change (the gateway's meter replaces its cost). */
const AUDIT_REPORT = JSON.stringify({ ticket_id: 'D302', verdict: 'PASS', violations: [], summary: 'InventoryLimit only, in scope; no PnL, no SSOT edit.', model: 'claude-sonnet-4-5', cost_usd: 0 });

/** A request of the Auditor's Claude Code: its prompt is the Auditor's instructions. */
const fromAuditor = (req: RecordedRequest): boolean => JSON.stringify(req.body).includes('You are the Auditor');

/**
 * The model: the Worker first Writes engine/inventory.py (a new file in D302's scope), then says
 * "Done."; D302 is HIGH (risk.words 'order' in "refuses orders"), so the Auditor's Claude Code
 * then Writes its verdict, PASS, to its report file.
 */
const script: Script = (req) => {
  const auditor = fromAuditor(req);
  if (req.hasToolResult) return { text: auditor ? 'Verdict: PASS.' : 'Done: InventoryLimit added.', usage: USAGE };
  const write = auditor ? { file_path: '/factory/out/audit_report.json', content: AUDIT_REPORT } : { file_path: '/workspace/engine/inventory.py', content: INVENTORY };
  return { toolCall: { name: 'Write', input: write }, usage: USAGE };
};

/**
 * The full cycle with the REAL Claude Code CLI in the Worker container, driven through the
 * real gateway by the scripted provider: PLAN → DO (the CLI writes in scope) → CHECK (Gate in a
 * fresh container, then the Auditor — D302 is HIGH — with Claude Code too) → ADJUST (ledger DONE,
 * commit), the evidence's cost equal to the gateway meter.
 */
describe('full cycle with the real Claude Code CLI (scripted model behind the real gateway)', function () {
  this.timeout(20 * 60_000);
  let image: string;
  let provider: ScriptedProvider;
  const prevKey = process.env.ANTHROPIC_API_KEY;

  before(async function () {
    requireDocker(this);
    image = ensureAgentsImage();
    build();
    provider = await ScriptedProvider.start({ script, expectedKey: KEY });
    process.env.ANTHROPIC_API_KEY = KEY;
  });
  after(async () => {
    if (prevKey === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = prevKey;
    await provider?.close();
    cleanup();
  });

  it('PLAN → DO (Claude Code edits in scope) → CHECK (Gate) → ADJUST (ledger DONE, commit); evidence cost = gateway meter', async () => {
    const repo = exampleRepo();
    const { config } = await loadConfigStrict(repo);
    config.worker.image = image;
    config.agents['claude-code'] = { model: 'claude-sonnet-4-5', maxTurns: 6, args: [] };
    // The Auditor is routed too (the example's table routes HIGH audits to the replay agent): Claude Code on the same model here.
    config.routing.levels.HIGH.auditor = { agent: 'claude-code', model: 'claude-sonnet-4-5' };
    config.gateway.upstreams = { anthropic: provider.url };
    const o = await runCycle({ root: repo, ticket: 'D302', agent: 'claude-code', config });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    assert.deepEqual(o.changes, [{ path: 'engine/inventory.py', kind: 'added' }]);
    assert.equal(fs.readFileSync(path.join(repo, 'engine/inventory.py'), 'utf8'), INVENTORY);
    assert.ok(provider.requests.length >= 2 && provider.requests.every((r) => r.key === KEY), 'the CLI went round its tool loop with the host key injected by the gateway');
    // HIGH risk: the Auditor ran (its own Claude Code through the provider) and its verdict is kept.
    assert.equal(o.audit?.verdict, 'PASS', 'the HIGH-risk cycle called the Auditor');
    assert.ok(provider.requests.some(fromAuditor), 'the Auditor\'s Claude Code asked the model');
    const audit = JSON.parse(fs.readFileSync(path.join(repo, o.audit?.report ?? ''), 'utf8'));
    assert.equal(audit.verdict, 'PASS');
    // Cost: the gateway's meter — 1,000 in + 500 out on claude-sonnet-4-5 = $0.0105 per served call, the Worker's and the Auditor's.
    assert.ok(Math.abs(o.costUsd - 0.0105 * provider.served.requests) < 1e-9, `cost ${o.costUsd}`);
    assert.ok(audit.cost_usd > 0, 'the Auditor\'s cost is its gateway\'s meter, not the report\'s claim');
    assert.ok(o.evidencePath);
    const manifest = JSON.parse(fs.readFileSync(path.join(repo, o.evidencePath, 'manifest.json'), 'utf8'));
    const kpi = JSON.parse(fs.readFileSync(path.join(repo, o.evidencePath, 'kpi.json'), 'utf8'));
    assert.equal(manifest.cost_usd, o.costUsd);
    assert.equal(kpi.cost_usd, o.costUsd);
    assert.deepEqual(manifest.gates, { doctor: 'PASS', fast: 'PASS', regression: 'PASS' });
    // Every gateway's call records are part of the evidence, each with its role; they add up to the cycle's cost.
    const calls = fs.readFileSync(path.join(repo, o.evidencePath, 'gateway.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { role: string; costUsd: number });
    assert.equal(calls.length, provider.requests.length);
    assert.equal(calls.filter((c) => c.role === 'auditor').length, provider.requests.filter(fromAuditor).length);
    assert.ok(Math.abs(calls.filter((c) => c.role === 'auditor').reduce((s, c) => s + c.costUsd, 0) - audit.cost_usd) < 1e-9);
    assert.ok(Math.abs(calls.reduce((s, c) => s + c.costUsd, 0) - o.costUsd) < 1e-9);
    assert.doesNotMatch(JSON.stringify(calls), new RegExp(KEY), 'no key in the evidence');
    const ledger = parseLedger(fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8'), 'L');
    assert.deepEqual(ledger.acs.filter((a) => a.ticketId === 'D302').map((a) => [a.status, a.evidence]), [['DONE', o.evidencePath], ['DONE', o.evidencePath]]);
    assert.match(git(repo, 'log', '-1', '--format=%B'), new RegExp(`^factory: D302 PASS[\\s\\S]*Cost: \\$${o.costUsd.toFixed(4).replace('.', '\\.')} \\(worker claude-code claude-sonnet-4-5 [^\\n]*; auditor claude-code claude-sonnet-4-5 `));
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), o.commit);
    assert.deepEqual(containersOf(o.runId), []);
  });
});
