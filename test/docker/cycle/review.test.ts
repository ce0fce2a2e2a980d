import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { runCycle, type ChangesetReview } from '../../../src/core/cycle/orchestrator';
import { readHistory } from '../../../src/core/history/history';
import { requireDocker } from '../../support/engines';
import { ScriptedProvider } from '../../support/scripted-provider';
import { REPLAYS, build, cleanup, containersOf, exampleRepo, git, replayDir, treeDigest } from './helpers';

/**
 * The extension's hooks into the cycle (issue 7): the changeset review before ADJUST
 * (`factory.review.requireApproval`) and the provider keys handed in from SecretStorage.
 */
describe('cycle hooks for the editor: changeset review and keys from SecretStorage (real engine)', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build();
  });
  after(cleanup);

  it('the review sees the verified staging tree and the changes; Reject applies nothing and records the reason', async () => {
    const repo = exampleRepo();
    const before = treeDigest(repo);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    let seen: ChangesetReview | undefined;
    let stagedPricing = '';
    const o = await runCycle(
      { root: repo, agent: 'replay', replayDir: REPLAYS },
      {
        review: async (r) => {
          seen = r;
          stagedPricing = fs.readFileSync(path.join(r.workspace, 'engine/pricing.py'), 'utf8');
          return { approved: false, reason: 'not the approach we want' };
        },
      },
    );
    assert.ok(seen, 'the review was asked');
    assert.equal(seen.ticketId, 'D201');
    assert.equal(seen.baseCommit, head);
    assert.deepEqual(seen.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.match(stagedPricing, /MAX_SPREAD_BPS = 20_000/, 'the reviewer reads the Worker\'s version');
    assert.equal(o.status, 'FAIL');
    assert.match(o.reasons.join('\n'), /rejected in review: not the approach we want/);
    assert.equal(treeDigest(repo), before, 'nothing applied');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'nothing committed');
    const last = readHistory(path.join(repo, 'logs/autopilot/history.jsonl')).records.at(-1);
    assert.equal(last?.status, 'FAIL');
    assert.match(JSON.stringify(last?.reasons), /rejected in review/);
    // The timeline the Run panel shows once the live one is gone.
    assert.deepEqual((last?.phases as { name: string; status: string }[]).map((p) => [p.name, p.status]), [['PLAN', 'PASS'], ['DO', 'PASS'], ['CHECK', 'FAIL'], ['ADJUST', 'SKIPPED']]);
    assert.deepEqual(containersOf(o.runId), []);
  });

  it('a review is only asked when every check passed: a scope violation FAILs without asking', async () => {
    const repo = exampleRepo();
    await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }); // D201 PASS, so D202 (out of scope) is next
    let asked = 0;
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { review: async () => (asked++, { approved: true }) });
    assert.equal(o.ticketId, 'D202');
    assert.equal(o.status, 'FAIL');
    assert.equal(asked, 0);
  });

  it('Approve applies and commits as without a review; stopping during the review ends the cycle ABORTED, nothing applied', async () => {
    const repo = exampleRepo();
    const ok = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS }, { review: async () => ({ approved: true }) });
    assert.equal(ok.status, 'PASS', ok.reasons.join('; '));
    assert.match(git(repo, 'log', '-1', '--format=%s'), /^factory: D201 PASS/);

    const repo2 = exampleRepo();
    const before = treeDigest(repo2);
    const stop = new AbortController();
    await assert.rejects(
      runCycle({ root: repo2, agent: 'replay', replayDir: REPLAYS }, { signal: stop.signal, review: () => new Promise((resolve) => { stop.abort(); resolve({ approved: false, reason: 'stopped' }); }) }),
      /interrupted/,
    );
    assert.equal(treeDigest(repo2), before);
    assert.equal(readHistory(path.join(repo2, 'logs/autopilot/history.jsonl')).records.at(-1)?.status, 'ABORTED');
    assert.equal(fs.existsSync(path.join(repo2, 'logs/autopilot/cycle_state.json')), false);
  });

  it('SEC-24 the keys the caller hands in (SecretStorage) are what the gateway injects; none is in the environment', async () => {
    const provider = await ScriptedProvider.start({ script: () => ({ text: 'ok', usage: { input: 10, output: 2 } }) });
    const saved = process.env.ANTHROPIC_API_KEY;
    delete process.env.ANTHROPIC_API_KEY;
    try {
      const repo = exampleRepo();
      const recorded = JSON.parse(fs.readFileSync(path.join(REPLAYS, 'D201.json'), 'utf8'));
      const call = { op: 'call', provider: 'anthropic', path: '/v1/messages', body: { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } };
      const replays = replayDir({ 'D201.json': { steps: [call, ...recorded.steps] } });
      const { config } = await loadConfigStrict(repo);
      config.gateway.upstreams = { anthropic: provider.url };
      const o = await runCycle({ root: repo, agent: 'replay', replayDir: replays, config, keys: { anthropic: 'sk-ant-from-secret-storage-0123456789' } });
      assert.equal(o.status, 'PASS', o.reasons.join('; '));
      assert.equal(provider.requests.length, 1);
      assert.equal(provider.requests[0]?.key, 'sk-ant-from-secret-storage-0123456789');
      assert.ok(o.costUsd > 0, 'the call was metered');
    } finally {
      if (saved !== undefined) process.env.ANTHROPIC_API_KEY = saved;
      await provider.close();
    }
  });
});
