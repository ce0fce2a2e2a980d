import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { dryRun, formatDryRun } from '../../../src/core/cycle/dry-run';
import { trackedFiles } from '../../../src/core/cycle/git-ops';
import { preparePlan } from '../../../src/core/cycle/orchestrator';
import { assessTicketRisk, ticketRiskTexts } from '../../../src/core/plan/risk';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');

/**
 * PLAN lists only the tracked files some scope.modify can reach (the risk rules look at nothing
 * else): on a large repository the rest is never read, and the risk comes out the same.
 */
describe('PLAN: the file list behind the risk level', () => {
  let tmp: string;
  let repo: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-prepare-'));
    repo = path.join(tmp, 'demo');
    fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (s) => !s.includes(`${path.sep}replays`) });
    // Outside every modify glob: data that no risk rule may see through the listing.
    for (let i = 0; i < 50; i++) fs.mkdirSync(path.join(repo, 'data', `d${i}`), { recursive: true });
    fs.writeFileSync(path.join(repo, 'data', 'd1', 'core_pnl_dump.py'), 'x');
    // Inside the global modify glob engine/**: a file the HIGH rule **/core/** matches.
    fs.mkdirSync(path.join(repo, 'engine', 'core'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'engine', 'core', 'loop.py'), 'x');
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...a], { cwd: repo, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('lists below the given folders only, literally; every file without a limit or with the top folder', async () => {
    const all = await trackedFiles(repo);
    assert.ok(all.includes('data/d1/core_pnl_dump.py') && all.includes('engine/core/loop.py'));
    const engine = await trackedFiles(repo, undefined, ['engine', 'tests/test_pricing.py', 'no[ne]']);
    assert.ok(engine.length > 0 && engine.every((f) => f.startsWith('engine/') || f === 'tests/test_pricing.py'), engine.join(' '));
    assert.deepEqual(await trackedFiles(repo, undefined, ['']), all);
  });

  it('the plan\'s risk equals the risk over every tracked file, for a ticket with its own modify list and for the global one', async () => {
    const { config } = await loadConfigStrict(repo);
    const all = await trackedFiles(repo);
    for (const ticket of ['D201', 'D302']) {
      const { built } = await preparePlan(repo, config, { ticket });
      assert.deepEqual(built.risk, assessTicketRisk({ ticketId: ticket, texts: ticketRiskTexts(built.ticket, built.acs), modify: built.plan.scope.modify, files: all, config }), ticket);
    }
    // A ticket falling back to the global engine/** sees engine/core/loop.py (HIGH) and engine/pnl.py (CRIT).
    // D302's text names only files that do not exist yet, so nothing is derived for it (issue 15).
    const wide = { ...config, scope: { ...config.scope, tickets: [] } };
    const { built } = await preparePlan(repo, wide, { ticket: 'D302' });
    assert.ok(built.plan.scope_fallback, 'the plan says it fell back to the config default');
    assert.equal(built.risk.level, 'CRIT');
    assert.ok(built.risk.reasons.some((r) => r.pattern === '**/core/**' && r.path === 'engine/core/loop.py'), JSON.stringify(built.risk.reasons));
    assert.deepEqual(built.risk, assessTicketRisk({ ticketId: 'D302', texts: ticketRiskTexts(built.ticket, built.acs), modify: built.plan.scope.modify, files: all, config: wide }));
  });
});

/**
 * Issue 15: a repository whose code is a top-level Python package (no src/) and whose config has
 * no scope at all. The default (src/**, tests/**) fits nothing; each ticket's scope is derived.
 */
describe('PLAN: the scope derived from the ticket, with reasons (code outside src/, no config scope)', () => {
  let tmp: string;
  let repo: string;
  let historySha: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-derive-'));
    repo = path.join(tmp, 'quantlib');
    fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (s) => !s.includes(`${path.sep}replays`) && !s.includes(`${path.sep}.factory`) });
    fs.renameSync(path.join(repo, 'engine'), path.join(repo, 'quant'));
    const ledgerFile = path.join(repo, 'docs/v2/design/AC_LEDGER.md');
    const ledger = fs.readFileSync(ledgerFile, 'utf8').replaceAll('scope: engine/pricing.py, tests/test_pricing.py', 'quote() lives in `quant.pricing`').replaceAll('engine', 'quant');
    fs.writeFileSync(ledgerFile, ledger);
    // D202 keeps a plan document: its new module and test to write, the PnL module to read only.
    fs.mkdirSync(path.join(repo, 'docs/plan'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'docs/plan/D202.md'), '# D202 plan\n\n## Modify\n- `quant/slippage.py`\n- `tests/test_slippage.py`\n\n## Read-only\n- `quant/fees.py`\n');
    const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...a], { cwd: repo, stdio: 'pipe', encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    // An earlier commit for D302::AC-1 (its text names only files that do not exist yet).
    fs.writeFileSync(path.join(repo, 'quant', 'limits.py'), 'MAX_POSITION = 10\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'D302::AC-1: position limit constant');
    historySha = git('rev-parse', '--short=7', 'HEAD').trim();
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a dotted module in the AC text: modify names the package file and its test, each with its reasons; no fallback', async () => {
    const { config } = await loadConfigStrict(repo);
    assert.deepEqual(config.scope.modify, ['src/**', 'tests/**'], 'no config scope: the default would fit nothing here');
    const { built } = await preparePlan(repo, config, { ticket: 'D201' });
    const p = built.plan;
    assert.deepEqual(p.scope.modify, ['quant/pricing.py', 'tests/test_pricing.py']);
    assert.equal(p.scope_fallback, undefined);
    assert.ok(p.scope_reasons?.['quant/pricing.py']?.some((r) => r.includes('D201::AC-2')), JSON.stringify(p.scope_reasons));
    assert.ok(p.scope_reasons?.['tests/test_pricing.py']?.some((r) => r.includes('test of quant/pricing.py')), JSON.stringify(p.scope_reasons));
    for (const f of ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', '.factory/**']) assert.ok(p.scope.forbidden.includes(f), f);
  });

  it('history and plan documents: a commit naming the AC and the AC\'s plan document give their files, with the commit and the document as reasons', async () => {
    const { config } = await loadConfigStrict(repo);
    const d302 = (await preparePlan(repo, config, { ticket: 'D302' })).built.plan;
    assert.ok(d302.scope.modify.includes('quant/limits.py'), JSON.stringify(d302.scope));
    assert.ok(d302.scope_reasons?.['quant/limits.py']?.some((r) => r.includes(`changed by ${historySha} for D302::AC-1`)), JSON.stringify(d302.scope_reasons));
    const d202 = (await preparePlan(repo, config, { ticket: 'D202' })).built.plan;
    assert.ok(d202.scope.readonly.includes('quant/fees.py') && !d202.scope.modify.includes('quant/fees.py'), JSON.stringify(d202.scope));
    assert.ok(d202.scope_reasons?.['quant/fees.py']?.includes('plan document docs/plan/D202.md'), JSON.stringify(d202.scope_reasons));
  });

  it('a ticket nothing names falls back to the config default, and factory dry says so with the setting to add', async () => {
    const { config } = await loadConfigStrict(repo);
    const d = await dryRun(repo, config, { ticket: 'D301' });
    assert.deepEqual(d.plan.scope.modify, ['src/**', 'tests/**']);
    assert.ok(d.plan.scope_fallback?.setting.includes('"ticket": "D301"'), JSON.stringify(d.plan.scope_fallback));
    assert.ok(d.plan.scope_fallback?.setting.includes('quant/**'), 'the suggested setting names the package the code is in');
    const text = formatDryRun(d);
    assert.match(text, /^scope: nothing could be derived for D301 — using the config default \(src\/\*\*, tests\/\*\*\); to set it add to \.factory\/config\.json: "scope": /m);
  });
});
