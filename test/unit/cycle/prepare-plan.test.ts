import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { trackedFiles } from '../../../src/core/cycle/git-ops';
import { preparePlan } from '../../../src/core/cycle/orchestrator';
import { assessRisk } from '../../../src/core/plan/risk';

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
      assert.deepEqual(built.risk, assessRisk(built.plan.scope.modify, all, config), ticket);
    }
    // A ticket falling back to the global engine/** sees engine/core/loop.py (HIGH) and engine/pnl.py (CRIT).
    const wide = { ...config, scope: { ...config.scope, tickets: [] } };
    const { built } = await preparePlan(repo, wide, { ticket: 'D201' });
    assert.equal(built.risk.level, 'CRIT');
    assert.ok(built.risk.reasons.some((r) => r.pattern === '**/core/**' && r.path === 'engine/core/loop.py'), JSON.stringify(built.risk.reasons));
    assert.deepEqual(built.risk, assessRisk(built.plan.scope.modify, all, wide));
  });
});
