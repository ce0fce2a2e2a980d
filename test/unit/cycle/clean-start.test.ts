import { localBackend } from '../../../src/core/backend/local';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { loadConfigStrict } from '../../../src/core/config/load';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import type { CycleEnv } from '../../../src/core/cycle/cycle-context';
import { cyclePaths } from '../../../src/core/cycle/cycle-paths';
import { planPhase } from '../../../src/core/cycle/phases/plan';
import { controllerRecordFilter } from '../../../src/core/evidence/records';
import { ensureRecordsIgnored, initRepository, recordIgnoreLines } from '../../../src/core/init/scaffold';
import { FactoryError } from '../../../src/core/util/errors';
import { nullLogger } from '../../../src/core/util/log';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo, stdio: 'pipe' }).toString();
}

/** PLAN's environment: no engine (PLAN never asks it), a real repository and config. */
function planEnv(root: string, config: FactoryConfig): CycleEnv {
  return { root, config, paths: cyclePaths(root, config), opts: { root, ticket: 'D201' }, deps: {}, docker: {} as Docker, backend: localBackend({ docker: {} as Docker }), log: nullLogger, now: () => new Date(), emit: () => undefined, lap: () => undefined, signal: undefined };
}

function write(repo: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
  fs.writeFileSync(path.join(repo, rel), text);
}

/** PLAN on `repo`: the refusal it throws, or the HEAD its beforeSpend hook was given. */
async function plan(repo: string): Promise<{ error?: FactoryError; baselineHead?: string }> {
  const { config } = await loadConfigStrict(repo);
  let baselineHead: string | undefined;
  try {
    await planPhase(planEnv(repo, config), { beforeSpend: async (head) => void (baselineHead = head) });
  } catch (err) {
    if (err instanceof FactoryError) return { error: err, ...(baselineHead ? { baselineHead } : {}) };
    throw err;
  }
  return baselineHead ? { baselineHead } : {};
}

describe('clean start (spec §8-3 "git status → clean"): PLAN refuses any change in the work tree', () => {
  let tmp: string;
  let n = 0;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-clean-start-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A fresh copy of the demo repository, committed. */
  function repo(): string {
    const r = path.join(tmp, `demo-${n++}`);
    fs.cpSync(EXAMPLE, r, { recursive: true, filter: (s) => !s.includes(`${path.sep}replays`) });
    git(r, 'init', '-q');
    git(r, 'add', '-A');
    git(r, 'commit', '-q', '-m', 'base');
    return r;
  }

  it('a clean tree plans, and the baseline hook gets HEAD', async () => {
    const r = repo();
    const out = await plan(r);
    assert.equal(out.error, undefined);
    assert.equal(out.baselineHead, git(r, 'rev-parse', 'HEAD').trim());
  });

  it('an untracked file outside every scope is refused with worktree-dirty, named, with what to do; the baseline never runs', async () => {
    const r = repo();
    write(r, 'notes/todo.txt', 'local\n');
    const { error, baselineHead } = await plan(r);
    assert.equal(error?.code, 'worktree-dirty');
    assert.equal(error?.exitCode, 2);
    assert.match(error.message, /"notes\/todo\.txt"/);
    assert.match(error.message, /commit or stash.*git clean.*\.gitignore/);
    assert.equal(baselineHead, undefined);
  });

  it('a modified tracked file outside the scope is refused too; many paths are listed as a few and "and N more"', async () => {
    const r = repo();
    fs.appendFileSync(path.join(r, 'engine/fees.py'), '\n# local note\n');
    for (let i = 0; i < 11; i++) write(r, `scratch/f${String(i).padStart(2, '0')}.txt`, 'x');
    const { error } = await plan(r);
    assert.equal(error?.code, 'worktree-dirty');
    assert.match(error.message, /12 uncommitted change\(s\)/);
    assert.match(error.message, /"engine\/fees\.py"/);
    assert.match(error.message, /and 4 more/);
    assert.doesNotMatch(error.message, /f10\.txt/);
  });

  it('the more specific codes stay: an SSOT document → ssot-dirty, a path of the plan\'s modify scope → scope-dirty', async () => {
    const r = repo();
    fs.appendFileSync(path.join(r, 'D_ROADMAP.md'), '\n');
    write(r, 'notes/todo.txt', 'local\n');
    assert.equal((await plan(r)).error?.code, 'ssot-dirty');
    const s = repo();
    fs.appendFileSync(path.join(s, 'engine/pricing.py'), '\n# wip\n');
    write(s, 'notes/todo.txt', 'local\n');
    const { error } = await plan(s);
    assert.equal(error?.code, 'scope-dirty');
    assert.match(error.message, /"engine\/pricing\.py"/);
    assert.doesNotMatch(error.message, /todo\.txt/);
  });

  it('an ignored file does not count', async () => {
    const r = repo();
    write(r, '.env', 'SECRET=1\n');
    write(r, 'engine/__pycache__/pricing.cpython-311.pyc', 'x');
    assert.equal((await plan(r)).error, undefined);
  });

  it('the Controller\'s records never block: logs/autopilot/*, and evidence runs that did not PASS or are `factory gate` runs', async () => {
    const r = repo();
    write(r, 'logs/autopilot/gate_cache/' + 'a'.repeat(64) + '.json', '{}');
    write(r, 'logs/autopilot/cycle_state.json', '{}');
    write(r, 'logs/autopilot/audits/run.json', '{}');
    write(r, 'logs/autopilot/history.jsonl', '{}\n');
    for (const [run, status, ticket] of [['20260101_000000_d201_fail', 'FAIL', 'D201'], ['20260101_000001_d201_blocked', 'BLOCKED', 'D201'], ['20260101_000002_d201_aborted', 'ABORTED', 'D201'], ['20260101_000003_gate', 'PASS', 'gate']]) {
      write(r, `logs/evidence/${run}/manifest.json`, JSON.stringify({ run_id: run, status, ticket_id: ticket }));
      write(r, `logs/evidence/${run}/gate.log`, 'x\n');
    }
    assert.equal((await plan(r)).error, undefined);
    // A cycle's PASS run is committed by its own cycle: one left untracked is a change like any other.
    write(r, 'logs/evidence/20260101_000004_d201/manifest.json', JSON.stringify({ status: 'PASS', ticket_id: 'D201' }));
    const { error } = await plan(r);
    assert.equal(error?.code, 'worktree-dirty');
    assert.match(error.message, /^refusing to start: the work tree has 1 uncommitted/);
    assert.match(error.message, /20260101_000004_d201\/manifest\.json/);
  });
});

describe('factory init ignores the Controller\'s local records', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-init-ignore-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('creates .gitignore with the record lines; never history, plan or cost summary (a PASS commit holds them)', async () => {
    const root = path.join(tmp, 'fresh');
    const report = await initRepository(root);
    assert.ok(report.written.includes('.gitignore'));
    const lines = fs.readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n');
    for (const l of recordIgnoreLines('logs/autopilot')) assert.ok(lines.includes(l), l);
    assert.ok(!lines.some((l) => /history|plan\.json|cost_summary/.test(l)), lines.join('\n'));
    // git agrees: the records are ignored, the committed ones are not.
    git(root, 'init', '-q');
    const ignored = (p: string) => {
      try {
        git(root, 'check-ignore', '-q', p);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(ignored('logs/autopilot/gate_cache/x.json') && ignored('logs/autopilot/cycle_state.json') && ignored('logs/autopilot/.adjust-20260101_d201/D_ROADMAP.md') && ignored('logs/autopilot/audits/r.json'));
    assert.ok(ignored('logs/autopilot/cycle_state.3.json') && ignored('logs/autopilot/stop_requests/20260101_000000_d201_abc'), 'every slot\'s state and the stop requests');
    assert.ok(!ignored('logs/autopilot/history.jsonl') && !ignored('logs/autopilot/plan.json') && !ignored('logs/autopilot/cost_summary_202601.json'));
  });

  it('appends to an existing .gitignore without duplicating a line, and a second call writes nothing', async () => {
    const root = path.join(tmp, 'existing');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, '.gitignore'), 'node_modules/\nlogs/autopilot/gate_cache/');
    assert.equal(await ensureRecordsIgnored(root, 'logs/autopilot'), true);
    const text = fs.readFileSync(path.join(root, '.gitignore'), 'utf8');
    assert.ok(text.startsWith('node_modules/\nlogs/autopilot/gate_cache/\n'), text);
    assert.equal(text.match(/gate_cache/g)?.length, 1, 'the line already there is not added again');
    assert.equal(await ensureRecordsIgnored(root, 'logs/autopilot'), false);
    assert.equal(fs.readFileSync(path.join(root, '.gitignore'), 'utf8'), text, 'idempotent');
  });

  it('a .gitignore written before parallel runs (its cycle_state.json line) keeps that line and gains the slot glob and the stop requests, once', async () => {
    const root = path.join(tmp, 'older');
    fs.mkdirSync(root);
    const before = ['/logs/autopilot/gate_cache/', '/logs/autopilot/audits/', '/logs/autopilot/cycle_state.json', '/logs/autopilot/.adjust-*/', '/logs/autopilot/evidence_index.json', ''].join('\n');
    fs.writeFileSync(path.join(root, '.gitignore'), before);
    assert.equal(await ensureRecordsIgnored(root, 'logs/autopilot'), true);
    const text = fs.readFileSync(path.join(root, '.gitignore'), 'utf8');
    assert.ok(text.startsWith(before), 'the older lines stay as they were');
    assert.deepEqual(text.slice(before.length).split('\n').filter(Boolean).filter((l) => !l.startsWith('#')), ['/logs/autopilot/cycle_state*.json', '/logs/autopilot/stop_requests/']);
    assert.equal(await ensureRecordsIgnored(root, 'logs/autopilot'), false, 'never twice');
  });

  it('every slot\'s state file and every stop request is a Controller record: never a dirty tree', () => {
    const isRecord = controllerRecordFilter(tmp, defaultConfig());
    for (const p of ['logs/autopilot/cycle_state.json', 'logs/autopilot/cycle_state.2.json', 'logs/autopilot/cycle_state.17.json', 'logs/autopilot/stop_requests/20260101_000000_d201_abc']) assert.ok(isRecord(p), p);
    assert.ok(!isRecord('cycle_state.2.json') && !isRecord('engine/stop_requests/x'), 'only under the autopilot folder');
  });
});
