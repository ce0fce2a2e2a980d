import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { kpiSchema, pnlBreakdownSchema, pnlProblems, type VerifiedRecord } from '../../../src/core/evidence/evidence-format';
import { emptyGitInfo } from '../../../src/core/evidence/git-info';
import { baselineLine } from '../../../src/core/evidence/readme';
import { compareSteps } from '../../../src/core/evidence/reproduce';
import { checkRunTree } from '../../../src/core/evidence/reproduce-tree';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { buildVerifiedTree } from '../../../src/core/evidence/verified-tree';
import { writeEvidence, type EvidenceInput } from '../../../src/core/evidence/writer';
import { HostRunner } from '../../../src/core/gate/host-runner';
import { runGate } from '../../../src/core/gate/run-gate';
import { readWorkerPnl } from '../../../src/core/cycle/phases/check';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CORPUS = '/work/shared/corpus/arbitrage-bot';

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' });
}

function write(root: string, rel: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}

/** The ```sh blocks of a README, in order. */
function shBlocks(readme: string): string[][] {
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].trim().split('\n'));
}

describe('reproducible PASS evidence (verified tree, per-step KPI, README commands)', () => {
  let tmp: string;
  let repo: string;
  let base: string;
  const RUN = '20260102_030405_d201_abcdef0';
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-evidence-'));
    repo = path.join(tmp, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q');
    write(repo, 'src/calc.py', 'def add(a, b):\n    return a + b\n');
    write(repo, 'old.txt', 'old\n');
    write(repo, 'LEDGER.md', '| AC-1 | OPEN |\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'base');
    base = git(repo, 'rev-parse', 'HEAD').trim();
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const changes = [
    { path: 'old.txt', kind: 'deleted' },
    { path: 'src/calc.py', kind: 'modified' },
    { path: 'src/mul.py', kind: 'added' },
  ];

  /** The Worker's staging copy, the verified tree, and the PASS commit (changes + the ledger, with its trailer). */
  async function passRun(): Promise<{ verified: VerifiedRecord; lines: { added: number; removed: number }; commit: string }> {
    const ws = path.join(tmp, 'staging');
    fs.mkdirSync(ws);
    execFileSync('sh', ['-c', `git -C "${repo}" archive HEAD | tar -x -C "${ws}"`]);
    write(ws, 'src/calc.py', 'def add(a, b):\n    """Sum."""\n    return a + b\n');
    write(ws, 'src/mul.py', 'def mul(a, b):\n    return a * b\n');
    fs.rmSync(path.join(ws, 'old.txt'));
    const v = await buildVerifiedTree(repo, base, ws, changes);
    for (const c of changes) {
      if (c.kind === 'deleted') fs.rmSync(path.join(repo, c.path));
      else fs.copyFileSync(path.join(ws, c.path), path.join(repo, c.path));
    }
    write(repo, 'LEDGER.md', '| AC-1 | DONE |\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', `factory: D201 PASS\n\nFactory-Run: ${RUN}\n`);
    const verified: VerifiedRecord = { tree: v.tree, base_commit: base, prefix: v.prefix, changes: v.changes, image: 'agentic-factory/worker-base:bookworm', image_id: 'sha256:' + 'a'.repeat(64) };
    return { verified, lines: { added: v.linesAdded, removed: v.linesRemoved }, commit: git(repo, 'rev-parse', 'HEAD').trim() };
  }

  async function evidence(verified: VerifiedRecord, lines: { added: number; removed: number }, extra: Partial<EvidenceInput> = {}) {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(tree, { recursive: true });
    const c = defaultConfig();
    c.guards = [{ name: 'Welding', command: [process.execPath, '-e', 'console.log("ok")'], timeoutSeconds: 10, kind: 'preflight' }];
    c.gate.stages = [
      { name: 'doctor', command: [process.execPath, '-e', 'console.log("3 passed in 0.1s")'], timeoutSeconds: 10 },
      { name: 'fast', command: [process.execPath, '-e', 'console.log("7 passed, 2 skipped in 0.3s")'], timeoutSeconds: 10 },
    ];
    const gate = await runGate({ config: c, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    const gitInfo = emptyGitInfo(new Date('2026-01-02T03:04:05Z'));
    gitInfo.commit = base;
    return writeEvidence(path.join(repo, 'logs', 'evidence'), {
      runId: RUN,
      ticketId: 'D201',
      status: 'PASS',
      startedAt: new Date('2026-01-02T03:04:05Z'),
      endedAt: new Date('2026-01-02T03:05:05Z'),
      git: gitInfo,
      gate,
      costUsd: 0.03,
      kpi: { cost_by_role: { worker: 0.02, auditor: 0.01 } },
      verified,
      changeset: { files: changes.length, linesAdded: lines.added, linesRemoved: lines.removed },
      ...extra,
    });
  }

  it('kpi.json has each step\'s counts and duration, the changeset in lines and the metered cost by role; the manifest names the verified tree and image', async () => {
    const { verified, lines } = await passRun();
    assert.deepEqual(lines, { added: 1 + 2, removed: 1 });
    const w = await evidence(verified, lines, { baseline: { commit: base, tree: 'f'.repeat(40), status: 'green', failing: [], accepted: false, cached: true } });
    assert.equal(validateEvidence(w.dir).valid, true, JSON.stringify(validateEvidence(w.dir).problems));
    const kpi = kpiSchema.parse(JSON.parse(fs.readFileSync(path.join(w.dir, 'kpi.json'), 'utf8')));
    assert.deepEqual(kpi.steps?.map((s) => [s.kind, s.name, s.status, s.tests]), [
      ['guard', 'Welding', 'PASS', null],
      ['stage', 'doctor', 'PASS', { passed: 3, failed: 0, skipped: 0, errors: 0 }],
      ['stage', 'fast', 'PASS', { passed: 7, failed: 0, skipped: 2, errors: 0 }],
    ]);
    assert.ok(kpi.steps?.every((s) => s.duration_seconds > 0 && s.command[0] === process.execPath));
    assert.deepEqual(kpi.tests, { passed: 10, failed: 0, skipped: 2, errors: 0 });
    assert.deepEqual(kpi.changeset, { files: 3, lines_added: 3, lines_removed: 1 });
    assert.deepEqual(kpi.cost_by_role, { worker: 0.02, auditor: 0.01 });
    assert.equal(kpi.cost_usd, 0.03);
    assert.equal(kpi.baseline?.status, 'green');
    assert.deepEqual(w.manifest.verified, verified);
    const readme = fs.readFileSync(path.join(w.dir, 'README.md'), 'utf8');
    assert.match(readme, /Baseline: baseline on HEAD [0-9a-f]{7}: green \(gate cache\)/);
    assert.ok(readme.includes(`Verified tree: ${verified.tree}`));
    assert.ok(readme.includes(`Gate image: agentic-factory/worker-base:bookworm (sha256:${'a'.repeat(64)})`));
  });

  it('README\'s commands run as written: the first finds the run\'s commit by its trailer, the by-hand block prints the verified tree', async () => {
    const { verified, lines, commit } = await passRun();
    const w = await evidence(verified, lines);
    const [reproduce, byHand] = shBlocks(fs.readFileSync(path.join(w.dir, 'README.md'), 'utf8'));
    assert.equal(reproduce.length, 3, 'three reproduction lines (spec §4-2)');
    assert.match(reproduce[1], new RegExp(`^factory evidence-check --reproduce ${RUN} `));
    assert.equal(execFileSync('sh', ['-c', reproduce[0]], { cwd: repo, encoding: 'utf8' }).trim(), commit);
    // The by-hand steps, up to the tree id (factory gate is the CLI's, tested elsewhere).
    const steps = byHand.filter((l) => !l.startsWith('factory '));
    const out = execFileSync('sh', ['-ec', steps.join('\n')], { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'T', GIT_CONFIG_KEY_1: 'user.email', GIT_CONFIG_VALUE_1: 't@localhost' } });
    assert.equal(out.trim().split('\n').pop(), verified.tree);
    assert.notEqual(verified.tree, git(repo, 'rev-parse', `${commit}^{tree}`).trim(), 'the commit also holds the ledger: its own tree is not the verified one');
  });

  it('a red baseline accepted with --accept-red-baseline is said so, with what failed', () => {
    assert.equal(
      baselineLine({ commit: 'abcdef0123', tree: 't', status: 'red', failing: [{ kind: 'gate', name: 'fast', failed: 2 }, { kind: 'docops', name: 'ssot-links' }], accepted: true, cached: false }),
      'baseline on HEAD abcdef0: red, accepted with --accept-red-baseline: fast (2 failed), DocOps ssot-links',
    );
  });

  it('checkRunTree: the run\'s commit holds the verified tree; rewritten with one file changed (trailer kept) it names that file', async () => {
    const { verified, commit } = await passRun();
    const ok = await checkRunTree(repo, RUN, verified);
    assert.deepEqual({ commit: ok.commit, matches: ok.matches, problems: ok.problems }, { commit, matches: true, problems: [] });
    write(repo, 'src/mul.py', 'def mul(a, b):\n    return a * b + 1\n');
    git(repo, 'commit', '-q', '-a', '--amend', '--no-edit');
    const bad = await checkRunTree(repo, RUN, verified);
    assert.equal(bad.matches, false);
    assert.deepEqual(bad.differing, ['src/mul.py']);
    assert.match(bad.problems[0], /^the tree of [0-9a-f]{12} is not the tree that was verified \([0-9a-f]{12}\): src\/mul\.py$/);
    const none = await checkRunTree(repo, '20260102_030405_d999_abcdef0', verified);
    assert.equal(none.commit, null);
    assert.match(none.problems[0], /no commit reachable from HEAD carries the trailer "Factory-Run: 20260102_030405_d999_abcdef0"/);
  });

  it('compareSteps: status and counts must both match; a step only one side has is a mismatch; a changed command is noted', () => {
    const rec = [
      { kind: 'stage' as const, name: 'doctor', status: 'PASS' as const, tests: { passed: 3, failed: 0, skipped: 0, errors: 0 }, duration_seconds: 1, command: ['pytest', '-q'], cached: false },
      { kind: 'stage' as const, name: 'fast', status: 'PASS' as const, tests: { passed: 7, failed: 0, skipped: 0, errors: 0 }, duration_seconds: 1, command: ['pytest', 'tests'], cached: false },
    ];
    const step = (name: string, status: 'PASS' | 'FAIL', passed: number, argv: string[]) => ({ kind: 'stage' as const, name, argv, status, exitCode: 0, startedAt: '', endedAt: '', durationMs: 1, outputTail: '', counts: { framework: 'pytest' as const, passed, failed: status === 'FAIL' ? 1 : 0, skipped: 0, errors: 0, failedTests: [] } });
    const same = compareSteps(rec, { guards: [], stages: [step('doctor', 'PASS', 3, ['pytest', '-q']), step('fast', 'PASS', 7, ['pytest', 'tests'])] });
    assert.deepEqual(same.map((s) => s.match), [true, true]);
    const differs = compareSteps(rec, { guards: [], stages: [step('doctor', 'PASS', 2, ['pytest', '-q']), step('fast', 'FAIL', 6, ['pytest', 'other']), step('extra', 'PASS', 1, ['x'])] });
    assert.deepEqual(differs.map((s) => [s.name, s.match]), [['doctor', false], ['fast', false], ['extra', false]]);
    assert.match(differs[1].note ?? '', /command differs/);
    assert.equal(differs[2].recorded, null);
  });
});

describe('pnl_breakdown.json of profit tickets', () => {
  it('has a schema: net_pnl is required, gross/fees/slippage are numbers, further detail is kept', () => {
    assert.equal(pnlBreakdownSchema.safeParse({ gross_pnl: 2, fees: 0.1 }).success, false);
    assert.equal(pnlBreakdownSchema.safeParse({ net_pnl: 1, fees: 'low' }).success, false);
    const ok = pnlBreakdownSchema.parse({ net_pnl: 1.9, gross_pnl: 2, fees: 0.1, entry: { side: 'buy' } });
    assert.deepEqual(ok.entry, { side: 'buy' });
  });

  it('gross − fees − slippage must give net within rounding; the KPI\'s net must match it', () => {
    assert.deepEqual(pnlProblems({ net_pnl: 1.919, gross_pnl: 2, fees: 0.081 }, {}), []);
    assert.deepEqual(pnlProblems({ net_pnl: 1.81, gross_pnl: 2, fees: 0.081, slippage: 0.105 }, { net_pnl: 1.8143 }), [], 'a rounded figure is within tolerance');
    assert.match(pnlProblems({ net_pnl: 1.5, gross_pnl: 2, fees: 0.081 }, {})[0], /gross_pnl 2 − fees 0\.081 = 1\.919, but net_pnl is 1\.5/);
    assert.match(pnlProblems({ net_pnl: 1.919 }, { net_pnl_full: 15.32 })[0], /net_pnl 1\.919 does not match kpi\.json net_pnl_full 15\.32/);
  });

  it('the corpus project\'s engine report figures (EVIDENCE_FORMAT.md, read in place) add up', function () {
    const doc = path.join(CORPUS, 'docs/v2/design/EVIDENCE_FORMAT.md');
    if (!fs.existsSync(doc)) this.skip();
    const text = fs.readFileSync(doc, 'utf8');
    const num = (key: string) => Number(new RegExp(`"${key}": (-?[\\d.]+)`).exec(text)?.[1]);
    const pnl = pnlBreakdownSchema.parse({ gross_pnl: num('gross_pnl'), net_pnl: num('net_pnl'), fees: num('fees'), slippage: num('slippage_total') });
    assert.deepEqual(pnlProblems(pnl, { pnl_usd: num('gross_pnl') - num('fees') }), []);
    assert.equal(pnlProblems({ ...pnl, net_pnl: pnl.net_pnl + 1 }, {}).length, 1);
  });

  it('the validator reports a net that does not add up or contradicts the KPI (pnl-mismatch); old evidence still validates', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pnl-evidence-'));
    try {
      const git = emptyGitInfo(new Date('2026-01-02T03:04:05Z'));
      const input = (pnl: Record<string, unknown>, kpi: Record<string, unknown>): EvidenceInput => ({ ticketId: 'D102', status: 'PASS', startedAt: new Date('2026-01-02T03:04:05Z'), endedAt: new Date('2026-01-02T03:04:06Z'), git, profitRelated: true, pnlBreakdown: pnl, kpi });
      const good = await writeEvidence(tmp, input({ net_pnl: 1.919, gross_pnl: 2, fees: 0.081 }, { net_pnl: 1.92 }));
      assert.equal(validateEvidence(good.dir).valid, true, JSON.stringify(validateEvidence(good.dir).problems));
      const bad = await writeEvidence(tmp, input({ net_pnl: 1.919, gross_pnl: 2, fees: 0.081 }, { net_pnl: 3 }));
      assert.deepEqual(validateEvidence(bad.dir).problems.map((p) => `${p.file}:${p.code}`), ['pnl_breakdown.json:pnl-mismatch']);
      const unshaped = await writeEvidence(tmp, input({ gross_pnl: 2 }, {}));
      assert.deepEqual(validateEvidence(unshaped.dir).problems.map((p) => `${p.file}:${p.code}`), ['pnl_breakdown.json:malformed']);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const examples = path.join(REPO_ROOT, 'examples/demo-project/logs/evidence');
    for (const id of fs.readdirSync(examples)) {
      const c = validateEvidence(path.join(examples, id), { profitTickets: ['D102', 'D301'] });
      assert.equal(c.valid, true, `${id}: ${JSON.stringify(c.problems)}`);
    }
  });
});

describe('the Worker\'s pnl_breakdown.json at CHECK (readWorkerPnl)', () => {
  let out: string;
  const warnings: string[] = [];
  const log = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined };
  beforeEach(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-out-'));
    warnings.length = 0;
  });
  afterEach(() => fs.rmSync(out, { recursive: true, force: true }));
  const put = (v: unknown) => fs.writeFileSync(path.join(out, 'pnl_breakdown.json'), JSON.stringify(v));

  it('accepts the example project\'s shape (nested fills with strings) when it adds up and matches the KPI', () => {
    const example = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples/demo-project/logs/evidence/20261125_110508_d102_0000000/pnl_breakdown.json'), 'utf8'));
    put(example);
    assert.deepEqual(readWorkerPnl(out, { net_pnl: 1.919 }, log), example);
    assert.deepEqual(warnings, []);
  });

  it('refuses, with the reason in the log, a net that does not add up or contradicts the KPI, a missing net, and a symlink', () => {
    assert.equal(readWorkerPnl(out, {}, log), undefined, 'no file');
    put({ net_pnl: 5, gross_pnl: 2, fees: 0.081 });
    assert.equal(readWorkerPnl(out, {}, log), undefined);
    put({ net_pnl: 1.919, gross_pnl: 2, fees: 0.081 });
    assert.equal(readWorkerPnl(out, { net_pnl_full: 15.32 }, log), undefined);
    put({ gross_pnl: 2 });
    assert.equal(readWorkerPnl(out, {}, log), undefined);
    fs.rmSync(path.join(out, 'pnl_breakdown.json'));
    fs.writeFileSync(path.join(out, 'real.json'), JSON.stringify({ net_pnl: 1 }));
    fs.symlinkSync('real.json', path.join(out, 'pnl_breakdown.json'));
    assert.equal(readWorkerPnl(out, {}, log), undefined);
    assert.equal(warnings.length, 4);
    assert.match(warnings[0], /gross_pnl 2 − fees 0\.081 = 1\.919, but net_pnl is 5/);
    assert.match(warnings[1], /does not match kpi\.json net_pnl_full 15\.32/);
  });
});
