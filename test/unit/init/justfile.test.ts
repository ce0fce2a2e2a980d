/**
 * The justfile `factory init` writes, run with the real `just` (the rust-just devDependency) on
 * every recipe, in temporary git repositories, with the CLI variable pointed at this checkout's
 * dist/cli.js.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JUST_RECIPE_NAMES } from '../../../src/core/init/justfile';
import { buildCli, CLI, REPO_ROOT, runCli, tempDirs } from '../cli/cli-process';

const JUST = path.join(REPO_ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'just.cmd' : 'just');
const FACTORY = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`;

/** The parts of the scaffolded config.json the tests edit. */
interface EditableConfig {
  gate: { runIn: string; stages: { command: string[] }[] };
  guards: { name: string; command: string[] }[];
}

interface Ran {
  code: number | null;
  out: string;
}

/** `just <args>` in `cwd`; the CLI comes from $FACTORY unless `override` uses just's own `factory=` assignment. */
function just(cwd: string, args: string[], override = false): Ran {
  const env = { ...process.env, ...(override ? {} : { FACTORY }) };
  const r = spawnSync(JUST, override ? [`factory=${FACTORY}`, ...args] : args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=test', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'pipe' });
}

/** A git repository with `files`, initialised with `factory init` and committed. */
function initialisedRepo(dir: string, files: Record<string, string> = {}, edit?: (cfg: EditableConfig) => void): string {
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  git(dir, 'init', '-q', '-b', 'main');
  const r = runCli(['init', '--root', dir]);
  assert.equal(r.code, 0, r.stderr);
  if (edit) {
    const file = path.join(dir, '.factory/config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as EditableConfig;
    edit(cfg);
    fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  }
  fs.writeFileSync(path.join(dir, '.gitignore'), 'logs/\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'init');
  return dir;
}

describe('the justfile factory init writes, run with the real just', function () {
  this.timeout(300_000);
  const tmp = tempDirs();
  before(() => {
    buildCli();
    assert.ok(fs.existsSync(JUST), `the just binary of the rust-just devDependency: ${JUST}`);
  });
  after(() => tmp.cleanup());

  it('lists exactly the spec\'s recipes (plus the default listing)', () => {
    const root = initialisedRepo(tmp.make('just-list'));
    const r = spawnSync(JUST, ['--summary'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/).sort(), ['default', ...JUST_RECIPE_NAMES].sort());
  });

  it('every recipe on a fresh repository without a toolchain runs its factory command; the ones that fail do so by design', () => {
    const root = initialisedRepo(tmp.make('just-empty'));
    // recipe → [exit code, a line that only that factory command prints]
    const expected: Record<string, [number, RegExp]> = {
      default: [0, /^Available recipes:$/m],
      // By design: no stage is configured (nothing was detected), so the Gate would verify nothing and is refused.
      gate: [2, /^factory: the Gate cannot run as configured in \.factory\/config\.json: gate\.stages: no stage is configured/m],
      docops: [0, /^DocOps: PASS$/m],
      // By design: the refused Gate wrote no evidence, so there is nothing to check (the npm case below checks real runs).
      evidence_check: [1, /^no evidence runs under logs\/evidence$/m],
      // By design: a repository without a toolchain has no doctor / fast / regression stage.
      doctor: [2, /^factory: unknown gate stage "doctor" \(configured: \)$/m],
      fast: [2, /^factory: unknown gate stage "fast" \(configured: \)$/m],
      regression: [2, /^factory: unknown gate stage "regression" \(configured: \)$/m],
      factory_dry: [0, /^CONFIG ERROR {2}gate\.stages: no stage is configured/m],
      // By design: a Gate that would verify nothing is refused before any Worker is started.
      factory_run: [2, /^factory: the Gate cannot run as configured in \.factory\/config\.json \(no Worker was started\): gate\.stages: no stage is configured/m],
      factory_status: [0, /^Current {4}D100::AC-1 {2}Describe the first acceptance criterion$/m],
      // By design: D100 has no cycle commit yet, so there is nothing to audit.
      factory_audit: [2, /^factory: no cycle commit of D100 to audit/m],
    };
    assert.deepEqual(Object.keys(expected).sort(), ['default', ...JUST_RECIPE_NAMES].sort(), 'every recipe is run');
    for (const [recipe, [code, line]] of Object.entries(expected)) {
      const r = just(root, recipe === 'factory_audit' ? [recipe, 'D100'] : [recipe]);
      assert.equal(r.code, code, `just ${recipe}:\n${r.out}`);
      assert.match(r.out, line, `just ${recipe}`);
    }
    assert.equal(fs.existsSync(path.join(root, 'logs/autopilot/history.jsonl')), false, 'factory_run started no cycle');
  });

  it('on a repository whose npm scripts are the Gate (run on the host), doctor, fast, regression and gate STAGE pass; the factory= override works too', () => {
    const pkg = { name: 'x', private: true, scripts: { typecheck: 'node -e "console.log(\'TYPECHECK-OK\')"', 'test:unit': 'node -e "console.log(\'UNIT-OK\')"', test: 'node -e "console.log(\'ALL-OK\')"' } };
    const root = initialisedRepo(tmp.make('just-npm'), { 'package.json': JSON.stringify(pkg, null, 2) }, (cfg) => {
      // The project's own scripts on a trusted host: no worker image is needed for this test.
      cfg.gate.runIn = 'host';
    });
    for (const [recipe, marker] of [['doctor', 'TYPECHECK-OK'], ['fast', 'UNIT-OK'], ['regression', 'ALL-OK']] as const) {
      const r = just(root, [recipe]);
      assert.equal(r.code, 0, `just ${recipe}:\n${r.out}`);
      assert.match(r.out, /Status: ALL GATES PASS/, `just ${recipe}`);
      // The stage ran the repository's own script: its output is in the stage log of the evidence.
      const evidence = /^Evidence: (\S+)$/m.exec(r.out)?.[1];
      assert.ok(evidence, r.out);
      assert.ok(fs.readFileSync(path.join(root, evidence, 'artifacts', `stage_${recipe}.log`), 'utf8').includes(marker), `${recipe} ran ${marker}`);
    }
    // evidence_check (no RUN) checks the newest run those recipes wrote: regression's.
    const checked = just(root, ['evidence_check']);
    assert.equal(checked.code, 0, checked.out);
    assert.match(checked.out, /^\d{8}_\d{6}_gate_regression_[0-9a-f]{7}: VALID$/m);
    const one = just(root, ['gate', 'fast'], true);
    assert.equal(one.code, 0, one.out);
    assert.match(one.out, /gate --stage 'fast'/, 'the STAGE parameter reaches the CLI, quoted');
    const all = just(root, ['gate', 'nope']);
    assert.equal(all.code, 2);
    assert.match(all.out, /^factory: unknown gate stage "nope" \(configured: doctor, fast, regression\)$/m);
  });

  it('a stage script missing from the repository: just factory_dry names the key, just factory_run refuses before any Worker', () => {
    const root = initialisedRepo(tmp.make('just-missing'), { 'go.mod': 'module x\n' }, (cfg) => {
      cfg.gate.stages[1].command = ['tests/run.sh'];
      cfg.guards = [{ name: 'pnl', command: ['python3', 'scripts/check_no_duplicate_pnl.py'] }];
    });
    const dry = just(root, ['factory_dry']);
    assert.equal(dry.code, 0, dry.out);
    assert.match(dry.out, /^CONFIG ERROR {2}guards\[0\]\.command: scripts\/check_no_duplicate_pnl\.py does not exist in the repository$/m);
    assert.match(dry.out, /^CONFIG ERROR {2}gate\.stages\[1\]\.command: tests\/run\.sh does not exist in the repository$/m);
    const run = just(root, ['factory_run', '--agent', 'replay']);
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /no Worker was started\): guards\[0\]\.command: scripts\/check_no_duplicate_pnl\.py does not exist in the repository; gate\.stages\[1\]\.command: tests\/run\.sh does not exist/);
    assert.equal(fs.existsSync(path.join(root, 'logs/autopilot/history.jsonl')), false, 'no cycle was recorded');
  });
});
