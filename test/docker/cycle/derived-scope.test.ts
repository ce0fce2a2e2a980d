import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planSchema } from '../../../src/core/contracts/plan';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { FactoryError } from '../../../src/core/util/errors';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, cli, exampleRepo, git } from './helpers';

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const CONFIG = '.factory/config.json';

/**
 * The example with no scope at all in its config (the default would be src/**, tests/**, and the
 * code lives in the top-level package engine/), and D201's AC rows naming their module only by
 * its dotted name: the scope can only come from derivation.
 */
function derivedScopeRepo(): string {
  const repo = exampleRepo();
  const config = JSON.parse(fs.readFileSync(path.join(repo, CONFIG), 'utf8'));
  delete config.scope;
  fs.writeFileSync(path.join(repo, CONFIG), JSON.stringify(config, null, 2) + '\n');
  const ledger = fs.readFileSync(path.join(repo, LEDGER), 'utf8').replaceAll('| scope: engine/pricing.py, tests/test_pricing.py |', '| quote() lives in `engine.pricing` |');
  assert.match(ledger, /D201::AC-2 .*`engine\.pricing`/);
  fs.writeFileSync(path.join(repo, LEDGER), ledger);
  git(repo, 'commit', '-q', '-am', 'no config scope; D201 names its module');
  return repo;
}

describe('PDCA cycle with a derived scope (issue 15): code outside src/, no config scope', function () {
  this.timeout(300_000);
  before(function () {
    requireDocker(this);
    build(); // the Worker runtime (dist/worker.js) parses plan.json with the new fields
  });
  after(cleanup);

  it('PASSes with the scope derived from the AC text: plan.json names engine/pricing.py and its test with reasons, and the change lands', async () => {
    const repo = derivedScopeRepo();
    const o = await runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201' });
    assert.equal(o.status, 'PASS', o.reasons.join('; '));
    const plan = planSchema.parse(JSON.parse(fs.readFileSync(path.join(repo, 'logs/autopilot/plan.json'), 'utf8')));
    assert.deepEqual(plan.scope.modify, ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.equal(plan.scope_fallback, undefined, 'nothing fell back to the config default');
    const reasons = plan.scope_reasons ?? {};
    assert.ok(reasons['engine/pricing.py']?.some((r) => /D201::AC-2/.test(r)), JSON.stringify(reasons));
    assert.ok(reasons['tests/test_pricing.py']?.some((r) => /test of engine\/pricing\.py/.test(r)), JSON.stringify(reasons));
    for (const p of ['D_ROADMAP.md', LEDGER, '.factory/**']) assert.ok(plan.scope.forbidden.includes(p), p);
    // The Worker's change is applied and committed.
    assert.deepEqual(o.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.match(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /MAX_SPREAD_BPS = 20_000/);
    const files = git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n');
    assert.ok(files.includes('engine/pricing.py') && files.includes('tests/test_pricing.py'), files.join(' '));
  });

  it('factory plan and factory dry say loudly when a ticket falls back to the config default, with the setting to add; scope entries carry their reasons', async () => {
    const repo = derivedScopeRepo();
    const loud = /^scope: nothing could be derived for D301 — using the config default \(src\/\*\*, tests\/\*\*\); to set it add to \.factory\/config\.json: "scope": \{ "tickets": \[\{ "ticket": "D301", "modify": \["engine\/\*\*", "tests\/\*\*"\] \}\] \}$/m;
    const human = await cli(['plan', '--root', repo, '--ticket', 'D301']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, loud);
    const json = await cli(['plan', '--root', repo, '--ticket', 'D301', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(JSON.parse(json.stdout).scope_fallback?.setting.includes('"D301"'), json.stdout);
    assert.match(json.stderr, loud);
    const dry = await cli(['dry', '--root', repo, '--ticket', 'D201']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout, /nothing could be derived/);
    assert.match(dry.stdout, /^ +why engine\/pricing\.py ← .*D201::AC-2/m);
  });

  it('factory run says the fallback loudly on stderr too (beside --json), with the setting to add', async () => {
    const repo = derivedScopeRepo();
    const run = await cli(['run', '--root', repo, '--ticket', 'D301', '--agent', 'replay', '--replay', REPLAYS, '--json']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    assert.match(run.stderr, /^\[[^\]]*d301[^\]]*\] scope: nothing could be derived for D301 — using the config default \(src\/\*\*, tests\/\*\*\); to set it add to \.factory\/config\.json: "scope": \{ "tickets": \[\{ "ticket": "D301"/m);
    assert.equal(JSON.parse(run.stdout.trim().split('\n')[0]).ticketId, 'D301', 'stdout stays JSON');
  });

  it('PLAN refuses an uncommitted change to a file of the derived scope, before any container', async () => {
    const repo = derivedScopeRepo();
    fs.writeFileSync(path.join(repo, 'engine/pricing.py'), '# uncommitted work\n');
    await assert.rejects(
      runCycle({ root: repo, agent: 'replay', replayDir: REPLAYS, ticket: 'D201' }),
      (e: unknown) => e instanceof FactoryError && e.code === 'scope-dirty' && /"engine\/pricing\.py"/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(repo, 'logs/autopilot/history.jsonl')), false, 'nothing recorded');
  });
});
