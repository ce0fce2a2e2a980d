import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PriceTable } from '../../../src/core/config/prices';
import { stagingRoots } from '../../../src/core/sandbox/staging-root';
import { requireDocker } from '../../support/engines';

/** The staging copies (`factory-<runId>-XXXXXX`) in every root a cycle may use. */
function stagingCopies(): Set<string> {
  const out = new Set<string>();
  for (const root of stagingRoots()) {
    try {
      for (const n of fs.readdirSync(root)) if (/^factory-\d{8}_\d{6}_/.test(n)) out.add(path.join(root, n));
    } catch {
      /* no such root here */
    }
  }
  return out;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** What the gateway should charge for a recording's model calls on `model` (their scripted usage, the price table). */
function expectedCost(recording: string, model: string): string {
  const doc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples/demo-project/replays/model-calls.json'), 'utf8')) as { calls: Record<string, Array<{ body: { scripted_usage: { input: number; output: number } } }>> };
  const calls = doc.calls[recording];
  assert.ok(calls?.length, `${recording} makes model calls`);
  const usage = { inputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, outputTokens: 0 };
  for (const c of calls) {
    usage.inputTokens += c.body.scripted_usage.input;
    usage.outputTokens += c.body.scripted_usage.output;
  }
  return `$${PriceTable.cost(usage, PriceTable.withOverrides().lookup(model)!).toFixed(4)}`;
}

describe('npm run demo (scripts/demo.mjs as a real process, real Docker)', function () {
  this.timeout(600_000);
  before(function () {
    requireDocker(this);
  });

  it('routes by risk with metered cost (LOW economy PASS, scope FAIL, HIGH PASS with an Auditor on another model, Gate FAIL → Auditor → BLOCKED), reproduces the PASS and exits 0', () => {
    const before = stagingCopies();
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 590_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    assert.match(out, /^PASS D201: D201::AC-2, D201::AC-3 → commit [0-9a-f]{7}/m);
    // The LOW ticket on the economy route, charged by the gateway for its recorded usage on that model.
    const d201 = /^PASS D201:.*\n {4}(.*)$/m.exec(out)?.[1] ?? '';
    assert.match(d201, new RegExp(`^worker replay gpt-5-mini \\(economy\\) \\${expectedCost('D201', 'gpt-5-mini')} · cycle \\${expectedCost('D201', 'gpt-5-mini')} metered · run \\S+$`));
    // The runtime's result.json says what the gateway metered, not the replay agent's own $0.
    assert.ok(out.includes(`\n    result.json: the runtime reported ${expectedCost('D201', 'gpt-5-mini')} (the gateway metered ${expectedCost('D201', 'gpt-5-mini')})\n`), out);
    assert.match(out, /^FAIL D202: .*engine\/__init__\.py \(out-of-scope\)/m);
    // The HIGH ticket: Worker and Auditor on different models (and providers), each metered.
    const d302 = /^PASS D302 \(Auditor PASS\): D302::AC-1, D302::AC-2 → commit [0-9a-f]{7}\n {4}(.*)$/m.exec(out)?.[1] ?? '';
    assert.match(d302, new RegExp(`^worker replay claude-sonnet-4-5 \\(standard\\) \\${expectedCost('D302', 'claude-sonnet-4-5')} · auditor replay gpt-5 \\(premium\\) \\${expectedCost('D302.audit', 'gpt-5')} · cycle`), out);
    assert.match(out, /^BLOCKED D301 \(escalated → Auditor FAIL\)/m);
    // Escalation: the retries' Worker steps up to the premium tier.
    assert.match(out, /^FAIL D301: Gate FAIL at fast\n {4}worker replay claude-opus-4-5 \(premium\)/m);
    const total = Number(/^ {2}cost {10}\$(\d+\.\d{4}) metered by the gateway$/m.exec(out)?.[1]);
    assert.ok(total > 0, `metered total ${total}`);
    const byModel = /^ {2}cost by model .*\n((?: {16}.*\n)+)/m.exec(out)?.[1] ?? '';
    const models = [...byModel.matchAll(/^ {16}(\S+) +\$(\d+\.\d{4})/gm)].map((m) => [m[1], Number(m[2])] as const);
    assert.deepEqual(models.map((m) => m[0]).sort(), ['claude-opus-4-5', 'claude-sonnet-4-5', 'gpt-5', 'gpt-5-mini']);
    assert.ok(Math.abs(models.reduce((sum, m) => sum + m[1], 0) - total) < 0.0005, `cost by model adds up to the total ${total}: ${byModel}`);
    assert.doesNotMatch(out, /^ {2}FAIL {2}/m);
    // Done-when of issue 17: the demo's PASS reproduces, and no longer does once a file of its commit is changed.
    assert.match(out, /^ {4}REPRODUCED: the commit holds the verified tree and every Gate step matches$/m);
    assert.match(out, /^ {4}stage fast +PASS \(\d+ passed, 0 failed.*\) +PASS \(\d+ passed, 0 failed.*\) +ok$/m);
    assert.match(out, /^ {4} {2}the tree of [0-9a-f]{12} is not the tree that was verified \([0-9a-f]{12}\): engine\/pricing\.py$/m);
    assert.match(out, /All 20 expectations met/);
    // The FAILed cycles' staging copies (in RAM when they fit) go with the demo's throw-away repository.
    // Only the demo's own runs count: other cycles may run on this machine meanwhile.
    const runs = [...out.matchAll(/ · run (\S+)$/gm)].map((m) => m[1]);
    assert.equal(runs.length, 6, 'six cycles, each with its run id');
    const ours = [...stagingCopies()].filter((d) => !before.has(d) && runs.some((id) => path.basename(d).startsWith(`factory-${id}-`)));
    assert.deepEqual(ours, [], 'no staging copy left behind');
  });
});

describe('npm run demo without a Docker engine', function () {
  this.timeout(180_000);

  it('says that no engine is reachable and how to start one, and exits non-zero', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/demo.mjs')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 170_000,
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /no Docker engine is reachable/);
    assert.match(r.stderr, /start dockerd/);
    assert.doesNotMatch(r.stdout, /== cycle 1/);
  });
});
