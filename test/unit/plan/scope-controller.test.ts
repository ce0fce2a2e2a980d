import * as assert from 'node:assert/strict';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import { historyEntrySchema, parseHistoryEntry, toCycleRecord } from '../../../src/core/contracts/history-entry';
import { summarizeMonth } from '../../../src/core/cycle/cost-summary';
import { reviewScope, type ControllerReviewRequest } from '../../../src/core/plan/scope/controller-review';
import { applyReview, reviewCandidatesOf } from '../../../src/core/plan/scope/controller-scope';
import { controllerProvider } from '../../../src/core/plan/scope/controller-wire';
import type { DerivedScope, ScopeCandidate } from '../../../src/core/plan/scope/scope-types';
import type { Logger } from '../../../src/core/util/log';
import { ScriptedProvider, type Script } from '../../support/scripted-provider';

const KEY = 'sk-controller-host-key-0123456789';
const FILES = ['pkg/engine.py', 'pkg/fees.py', 'pkg/util.py', 'tests/test_fees.py', 'docs/fees.md', '.env', 'D_ROADMAP.md', 'logs/autopilot/history.jsonl'];
const FORBIDDEN = ['D_ROADMAP.md', '.env', '.env.*', 'logs/**'];
const CANDIDATES: ScopeCandidate[] = [
  { path: 'pkg/fees.py', cls: 'modify', reason: 'named in D7::AC-1', source: 'text' },
  { path: 'pkg/engine.py', cls: 'modify', reason: 'changed by 1a2b3c4 for D7::AC-2', source: 'history' },
  { path: 'docs/fees.md', cls: 'readonly', reason: 'named in D7::AC-1', source: 'text' },
];

/** A logger that keeps its warnings (the dropped entries are logged with their reason). */
function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, trace() {}, debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {} };
}

/** The model's answer as the review asks for it. */
const answer = (modify: Array<[string, string]>, readonly: Array<[string, string]> = []) =>
  JSON.stringify({ modify: modify.map(([path, reason]) => ({ path, reason })), readonly: readonly.map(([path, reason]) => ({ path, reason })) });

describe('Controller model scope review (through the metered gateway, scripted provider)', () => {
  let provider: ScriptedProvider;
  let script: Script;

  beforeEach(async () => {
    script = () => ({ text: answer([['pkg/fees.py', 'the fee rule lives here']]), usage: { input: 1000, output: 200 } });
    provider = await ScriptedProvider.start({ script: (r, i) => script(r, i), expectedKey: KEY });
  });
  afterEach(() => provider.close());

  function request(over: Partial<ControllerReviewRequest> = {}, controller: Partial<FactoryConfig['controller']> = {}): ControllerReviewRequest {
    const config = defaultConfig();
    config.controller = { ...config.controller, model: 'claude-sonnet-4-5', ...controller };
    config.gateway.upstreams = { anthropic: provider.url, openai: provider.url, gemini: provider.url };
    config.prices = { 'test-model': { inputPerMTok: 3, outputPerMTok: 15 } };
    return {
      ticket: { id: 'D7', title: 'Fees are charged on every fill' },
      acs: [{ id: 'D7::AC-1', title: 'the maker fee of `pkg/fees.py` applies to partial fills' }],
      candidates: CANDIDATES, files: FILES, forbidden: FORBIDDEN, config, keys: { anthropic: KEY, openai: KEY, gemini: KEY }, budgetUsd: 1,
      ...over,
    };
  }

  it('the model narrows the scope: its files carry source controller and its reason; the evidence it kept stays beside them', async () => {
    script = () => ({ text: '```json\n' + answer([['pkg/fees.py', 'the fee rule lives here']], [['tests/test_fees.py', 'the fee tests to extend']]) + '\n```', usage: { input: 1000, output: 200 } });
    const r = await reviewScope(request());
    assert.equal(r.error, undefined);
    assert.deepEqual(r.candidates, [
      CANDIDATES[0],
      { path: 'pkg/fees.py', cls: 'modify', reason: 'Controller model claude-sonnet-4-5: the fee rule lives here', source: 'controller' },
      { path: 'tests/test_fees.py', cls: 'readonly', reason: 'Controller model claude-sonnet-4-5: the fee tests to extend', source: 'controller' },
    ]);
    // Through the gateway: the host key injected, the Anthropic Messages API, the ticket and candidates in the prompt.
    assert.equal(provider.requests.length, 1);
    const sent = provider.requests[0];
    assert.equal(sent.key, KEY);
    assert.equal(sent.path, '/v1/messages');
    const prompt = JSON.stringify(sent.body);
    for (const s of ['D7::AC-1', 'maker fee', 'pkg/engine.py', 'changed by 1a2b3c4 for D7::AC-2']) assert.ok(prompt.includes(s), s);
    assert.match(String(sent.body.system), /\{"modify":\[\{"path"/);
  });

  it('the metered cost is returned, with the gateway record and a spend entry of role controller that history and the cost summary take', async () => {
    const r = await reviewScope(request());
    const expected = (1000 * 3 + 200 * 15) / 1e6; // claude-sonnet-4-5's built-in price
    assert.ok(Math.abs(r.costUsd - expected) < 1e-12, `${r.costUsd}`);
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0].status, 200);
    assert.deepEqual(r.spend, { role: 'controller', model: 'claude-sonnet-4-5', tokens: { in: 1000, out: 200 }, costUsd: r.costUsd });
    const line = { runId: 'r1', ticketId: 'D7', status: 'PASS', endedAt: '2026-11-02T10:00:00Z', costUsd: r.costUsd + 0.25, spend: [r.spend] };
    assert.ok(historyEntrySchema.safeParse(line).success);
    const s = summarizeMonth([toCycleRecord(parseHistoryEntry(line)!)], '202611');
    assert.deepEqual(s.byRole?.controller, { cycles: 1, costUsd: Math.round(expected * 1e6) / 1e6 });
    assert.deepEqual(s.byRole?.unattributed, { cycles: 1, costUsd: 0.25 });
  });

  it('a forbidden path, a path that does not exist, an unsafe path and a glob over a forbidden file are dropped, each with its reason logged', async () => {
    script = () => ({
      text: answer([
        ['pkg/fees.py', 'fees'], ['.env', 'needs the key'], ['D_ROADMAP.md', 'mark it done'], ['pkg/ghost.py', 'new helper'],
        ['../outside.py', 'escape'], ['logs/**', 'logs'], ['**/*.md', 'every doc'], ['pkg/u*.py', 'helpers'],
      ]),
      usage: { input: 10, output: 10 },
    });
    const log = capture();
    const r = await reviewScope(request({ logger: log }));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.candidates.filter((c) => c.source === 'controller').map((c) => c.path), ['pkg/fees.py', 'pkg/u*.py']);
    const dropped = log.warnings.join('\n');
    assert.match(dropped, /dropped \.env: forbidden/);
    assert.match(dropped, /dropped D_ROADMAP\.md: forbidden/);
    assert.match(dropped, /dropped pkg\/ghost\.py: no such file in the repository/);
    assert.match(dropped, /dropped \.\.\/outside\.py: not a safe repository path \(dot-dot\)/);
    assert.match(dropped, /dropped logs\/\*\*: forbidden/);
    assert.match(dropped, /dropped \*\*\/\*\.md: the glob covers the forbidden file D_ROADMAP\.md/);
  });

  it('a malformed answer leaves the candidates unchanged, with the error (and the spend still counted)', async () => {
    for (const text of ['Sure! {"modify": [{"path": "pkg/fees.py"', 'No JSON here.', '{"modify":[{"path":"pkg/fees.py","reason":"x","extra":1}]}', '{"modify":"pkg/fees.py"}', '{"modify":[],"__proto__":{"x":1}}']) {
      script = () => ({ text, usage: { input: 100, output: 10 } });
      const r = await reviewScope(request());
      assert.equal(r.candidates, CANDIDATES, text);
      assert.match(r.error ?? '', /claude-sonnet-4-5: the answer (is not valid JSON|holds no JSON object|does not match)/, text);
      assert.ok(r.costUsd > 0);
      assert.equal(r.spend?.role, 'controller');
    }
  });

  it('an answer naming no usable file to modify leaves the candidates unchanged', async () => {
    script = () => ({ text: answer([['pkg/ghost.py', 'x'], ['.env', 'y']]), usage: { input: 10, output: 10 } });
    const r = await reviewScope(request());
    assert.equal(r.candidates, CANDIDATES);
    assert.match(r.error ?? '', /named no existing, allowed file to modify \(2 dropped\)/);
  });

  it('budget: with nothing left of the cycle budget (or maxUsd 0) the gateway refuses; the candidates stay, nothing reaches the provider', async () => {
    for (const [over, ctl] of [[{ budgetUsd: 0 }, {}], [{}, { maxUsd: 0 }]] as const) {
      const r = await reviewScope(request(over, ctl));
      assert.equal(r.candidates, CANDIDATES);
      assert.match(r.error ?? '', /HTTP 402: factory gateway: the cycle budget of \$0\.00 is spent/);
      assert.equal(r.costUsd, 0);
      assert.equal(r.records[0].refused, 'budget');
    }
    assert.equal(provider.requests.length, 0);
  });

  it('an upstream error, a missing key or an unknown provider leaves the candidates unchanged', async () => {
    script = () => ({ errorStatus: 500, usage: { input: 0, output: 0 } });
    let r = await reviewScope(request());
    assert.equal(r.candidates, CANDIDATES);
    assert.match(r.error ?? '', /anthropic answered HTTP 500: scripted error 500/);
    r = await reviewScope(request({ keys: {} }));
    assert.match(r.error ?? '', /HTTP 401: factory gateway: no API key is configured for anthropic/);
    r = await reviewScope(request({}, { model: 'house-model' }));
    assert.match(r.error ?? '', /set controller\.provider/);
    r = await reviewScope(request({}, { model: undefined }));
    assert.match(r.error ?? '', /controller\.model is not set/);
    assert.equal(provider.requests.length, 1);
  });

  it('speaks OpenAI Chat Completions and Gemini generateContent too (provider from the model name or the config)', async () => {
    for (const [model, ctl, path] of [
      ['gpt-5-mini', {}, '/v1/chat/completions'],
      ['gemini-2.5-flash', {}, '/v1beta/models/gemini-2.5-flash:generateContent'],
      ['test-model', { provider: 'openai' }, '/v1/chat/completions'],
    ] as const) {
      const r = await reviewScope(request({}, { model, ...ctl }));
      assert.equal(r.error, undefined, model);
      assert.equal(provider.requests.at(-1)?.path, path);
      assert.ok(r.candidates.some((c) => c.source === 'controller' && c.reason.startsWith(`Controller model ${model}:`)));
      assert.ok(r.costUsd > 0, model);
    }
    assert.equal(controllerProvider('models/gemini-2.5-pro'), 'gemini');
    assert.equal(controllerProvider('o4-mini'), 'openai');
    assert.equal(controllerProvider('anthropic/claude-haiku-4-5'), 'anthropic');
  });

  it('is cancellable: an abort before or during the call throws interrupted', async () => {
    await assert.rejects(reviewScope(request({ signal: AbortSignal.abort() })), (e: Error & { code?: string }) => e.code === 'interrupted');
    const ac = new AbortController();
    script = () => {
      ac.abort();
      return { text: answer([['pkg/fees.py', 'x']]), usage: { input: 1, output: 1 } };
    };
    await assert.rejects(reviewScope(request({ signal: ac.signal })), (e: Error & { code?: string }) => e.code === 'interrupted');
  });

  it('between deriveScope and the plan: a derived scope is reviewed and replaced, config rules and forbidden entries stay, a fallback ends once the model names files', async () => {
    const derived: DerivedScope = {
      scope: { modify: ['pkg/engine.py', 'pkg/fees.py', 'pkg/util.py'], readonly: ['docs/fees.md'], forbidden: ['D_ROADMAP.md', '.env'] },
      reasons: { 'pkg/engine.py': ['changed by 1a2b3c4 for D7::AC-2'], 'pkg/fees.py': ['named in D7::AC-1', 'changed by 1a2b3c4 for D7::AC-2'], 'pkg/util.py': ['config rule D7*'], 'docs/fees.md': ['named in D7::AC-1'], 'D_ROADMAP.md': ['SSOT document'], '.env': ['secrets (.env files)'] },
    };
    const candidates = reviewCandidatesOf(derived);
    assert.equal(candidates.length, 5);
    assert.deepEqual(candidates.filter((c) => c.source === 'config').map((c) => c.path), ['pkg/util.py']);
    script = () => ({ text: answer([['pkg/fees.py', 'the fee rule']], [['pkg/engine.py', 'calls it']]), usage: { input: 10, output: 10 } });
    const r = await reviewScope(request({ candidates, forbidden: derived.scope.forbidden }));
    const reviewed = applyReview({ ...derived, fallback: { why: 'nothing named', setting: '…' } }, r.candidates);
    assert.deepEqual(reviewed, {
      scope: { modify: ['pkg/fees.py', 'pkg/util.py'], readonly: ['pkg/engine.py'], forbidden: ['D_ROADMAP.md', '.env'] },
      reasons: {
        'D_ROADMAP.md': ['SSOT document'], '.env': ['secrets (.env files)'],
        'pkg/fees.py': ['named in D7::AC-1', 'changed by 1a2b3c4 for D7::AC-2', 'Controller model claude-sonnet-4-5: the fee rule'],
        'pkg/util.py': ['config rule D7*'],
        'pkg/engine.py': ['Controller model claude-sonnet-4-5: calls it'],
      },
    });
    // The input unchanged (an error) gives the derived scope back, fallback and all.
    const fallback = { ...derived, fallback: { why: 'nothing named', setting: '…' } };
    assert.deepEqual(applyReview(fallback, reviewCandidatesOf(fallback)), fallback);
  });
});
