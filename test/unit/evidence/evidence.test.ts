import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { HostRunner } from '../../../src/core/gate/host-runner';
import { runGate } from '../../../src/core/gate/run-gate';
import { emptyGitInfo, collectGitInfo, stripUrlCredentials } from '../../../src/core/evidence/git-info';
import { RUN_ID_RE, formatRunId, parseRunId, runLabel } from '../../../src/core/evidence/run-id';
import { loadEvidenceIndex } from '../../../src/core/evidence/run-index';
import { validateEvidence } from '../../../src/core/evidence/validator';
import { isProfitTicket, writeEvidence, type EvidenceInput } from '../../../src/core/evidence/writer';
import { execFileSync } from 'node:child_process';

describe('evidence run ids', () => {
  it('follow YYYYMMDD_HHMMSS_<d-number>_<short_hash> as in EVIDENCE_FORMAT.md', () => {
    const t = new Date('2025-12-29T02:30:00Z');
    assert.equal(formatRunId(t, 'D200-2', '48b14fe74dfeb2018b282bd1c025717a00a60b92'), '20251229_023000_d200_2_48b14fe');
    assert.equal(formatRunId(t, 'gate_doctor', 'f5e6d7c'), '20251229_023000_gate_doctor_f5e6d7c');
    assert.equal(formatRunId(t, 'D_ALPHA-PIPELINE-0', undefined), '20251229_023000_d_alpha_pipeline_0_0000000');
    // The spec's project wrote ids in UTC+9.
    assert.equal(formatRunId(t, 'd204_2', 'a1b2c3d', 9 * 60), '20251229_113000_d204_2_a1b2c3d');
    for (const id of ['20251229_023000_d200_2_48b14fe', '20251229_024530_d204_2_a1b2c3d', '20251229_030000_gate_doctor_f5e6d7c']) {
      assert.match(id, RUN_ID_RE);
    }
    assert.equal(parseRunId('20251229_023000_d200_2_48b14fe')?.time.toISOString(), '2025-12-29T02:30:00.000Z');
    assert.equal(parseRunId('20261125_104911_d101_seed'), undefined);
    assert.equal(runLabel('../../etc'), 'etc');
    assert.equal(runLabel('티켓'), 'run');
  });
});

describe('evidence writer and validator', () => {
  let tmp: string;
  let evidenceDir: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-'));
    evidenceDir = path.join(tmp, 'logs', 'evidence');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function gateReport() {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(tree, { recursive: true });
    const c = defaultConfig();
    c.guards = [{ name: 'Welding', command: [process.execPath, '-e', 'console.log("ok")'], timeoutSeconds: 10, kind: 'preflight' }];
    c.gate.stages = [{ name: 'doctor', command: [process.execPath, '-e', 'console.log("3 passed, 0 failed")'], timeoutSeconds: 10 }];
    return runGate({ config: c, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
  }

  function input(extra: Partial<EvidenceInput> = {}): EvidenceInput {
    const git = emptyGitInfo(new Date('2026-01-02T03:04:05Z'));
    git.commit = 'abcdef0123456789abcdef0123456789abcdef01';
    return {
      ticketId: 'D201',
      taskName: 'Spread quoting',
      acIds: ['D201::AC-2'],
      status: 'PASS',
      startedAt: new Date('2026-01-02T03:04:05Z'),
      endedAt: new Date('2026-01-02T03:05:05Z'),
      git,
      commands: [{ title: 'Worker', command: ['claude', '-p'], status: 'PASS' }],
      costUsd: 0.12,
      ...extra,
    };
  }

  it('writes every required file, a run id folder and a manifest with every file\'s hash', async () => {
    const gate = await gateReport();
    const w = await writeEvidence(evidenceDir, input({ gate }));
    assert.equal(w.runId, '20260102_030405_d201_abcdef0');
    const files = fs.readdirSync(w.dir).sort();
    for (const f of ['README.md', 'artifacts', 'cmd_history.txt', 'gate.log', 'git_info.json', 'kpi.json', 'manifest.json']) assert.ok(files.includes(f), f);
    assert.deepEqual(
      w.manifest.files.map((f) => f.path),
      ['README.md', 'artifacts/guard_welding.log', 'artifacts/stage_doctor.log', 'cmd_history.txt', 'gate.log', 'git_info.json', 'kpi.json'],
    );
    assert.deepEqual(w.manifest.gates, { doctor: 'PASS' });
    const readme = fs.readFileSync(path.join(w.dir, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1].trim().split('\n');
    assert.equal(block.length, 3, 'README has a three-line reproduction');
    assert.match(fs.readFileSync(path.join(w.dir, 'cmd_history.txt'), 'utf8'), /## Gate: doctor\nCommand: .*\nStatus: PASS \(3\/3 PASS\)/);
    const kpi = JSON.parse(fs.readFileSync(path.join(w.dir, 'kpi.json'), 'utf8'));
    assert.deepEqual(kpi.tests, { passed: 3, failed: 0, skipped: 0, errors: 0 });
    const check = validateEvidence(w.dir);
    assert.deepEqual(check.problems, []);
    assert.equal(check.valid, true);
  });

  it('a run that is not a PASS carries error.log with the reasons and the failed step', async () => {
    const tree = path.join(tmp, 'tree-fail');
    fs.mkdirSync(tree, { recursive: true });
    const c = defaultConfig();
    c.guards = [];
    c.gate.stages = [{ name: 'regression', command: [process.execPath, '-e', 'console.log("boom at engine/pnl.py:12"); process.exit(2)'], timeoutSeconds: 10 }];
    const gate = await runGate({ config: c, treeDir: tree, runner: new HostRunner({ cwd: tree }) });
    const w = await writeEvidence(evidenceDir, input({ status: 'FAIL', gate, reasons: ['Gate FAIL at regression'] }));
    const log = fs.readFileSync(path.join(w.dir, 'error.log'), 'utf8');
    assert.match(log, /^Status: FAIL\nReason: Gate FAIL at regression\nFailed step: stage regression \(FAIL: exit 2\)\nOutput \(tail\):\n\| boom at engine\/pnl\.py:12\n$/);
    assert.equal(validateEvidence(w.dir).valid, true);
    fs.rmSync(path.join(w.dir, 'error.log'));
    assert.deepEqual(validateEvidence(w.dir).problems.map((p) => `${p.file}:${p.code}`), ['error.log:missing']);
  });

  it('a tampered evidence file is caught by the validator (hash mismatch)', async () => {
    const w = await writeEvidence(evidenceDir, input({ gate: await gateReport() }));
    const log = path.join(w.dir, 'gate.log');
    fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replace('GATE EXECUTION START', 'GATE EXECUTION BEGIN'));
    const check = validateEvidence(w.dir);
    assert.equal(check.valid, false);
    assert.deepEqual(check.problems.map((p) => [p.file, p.code]), [['gate.log', 'hash-mismatch']]);
  });

  it('reports missing, empty, malformed, unlisted and symlinked files, all at once', async () => {
    const w = await writeEvidence(evidenceDir, input());
    fs.rmSync(path.join(w.dir, 'cmd_history.txt'));
    fs.writeFileSync(path.join(w.dir, 'README.md'), '');
    fs.writeFileSync(path.join(w.dir, 'kpi.json'), '{"run_id": ');
    fs.writeFileSync(path.join(w.dir, 'extra.txt'), 'planted');
    fs.rmSync(path.join(w.dir, 'git_info.json'));
    fs.symlinkSync('/etc/hostname', path.join(w.dir, 'git_info.json'));
    const codes = validateEvidence(w.dir).problems.map((p) => `${p.file}:${p.code}`).sort();
    assert.deepEqual(codes, ['README.md:empty', 'cmd_history.txt:missing', 'extra.txt:unlisted', 'git_info.json:not-a-file', 'kpi.json:hash-mismatch', 'kpi.json:malformed']);
  });

  it('a manifest that is malformed, names another run, or a folder that is not a run id is invalid', async () => {
    const w = await writeEvidence(evidenceDir, input());
    const mf = path.join(w.dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    fs.writeFileSync(mf, JSON.stringify({ ...m, run_id: '20260102_030405_d999_abcdef0' }));
    assert.match(validateEvidence(w.dir).problems[0].message, /names run 20260102_030405_d999_abcdef0/);
    fs.writeFileSync(mf, JSON.stringify({ ...m, files: [{ path: '../../etc/passwd', sha256: 'x', bytes: 1 }] }));
    assert.equal(validateEvidence(w.dir).problems[0].code, 'malformed');
    const renamed = path.join(evidenceDir, 'my-run');
    fs.renameSync(w.dir, renamed);
    assert.ok(validateEvidence(renamed).problems.some((p) => p.code === 'bad-run-id'));
    assert.equal(validateEvidence(path.join(evidenceDir, 'nope')).problems[0].code, 'missing');
  });

  it('a PASS of a profit ticket needs pnl_breakdown.json: the writer refuses without it and the validator reports it missing', async () => {
    assert.equal(isProfitTicket('D301', ['D102', 'D3*']), true);
    assert.equal(isProfitTicket('D201', ['D102', 'D3*']), false);
    await assert.rejects(writeEvidence(evidenceDir, input({ ticketId: 'D301', profitRelated: true })), /a PASS needs pnl_breakdown\.json/);
    const failed = await writeEvidence(evidenceDir, input({ ticketId: 'D301', profitRelated: true, status: 'FAIL' }));
    assert.equal(validateEvidence(failed.dir).valid, true, 'a FAIL of a profit ticket is recorded without a PnL');
    const w = await writeEvidence(evidenceDir, input({ ticketId: 'D301', profitRelated: true, pnlBreakdown: { gross: 10, fees: 1, net_pnl: 9 } }));
    assert.equal(validateEvidence(w.dir).valid, true);
    fs.rmSync(path.join(w.dir, 'pnl_breakdown.json'));
    assert.deepEqual(validateEvidence(w.dir).problems.map((p) => p.code), ['missing']);
    // A run written as not profit-related is still held to the config's list.
    const plain = await writeEvidence(evidenceDir, input({ ticketId: 'D301' }));
    assert.deepEqual(validateEvidence(plain.dir, { profitTickets: ['D301'] }).problems.map((p) => `${p.file}:${p.code}`), ['pnl_breakdown.json:missing']);
  });

  it('two runs of one ticket in the same second get distinct ids in the same format', async () => {
    const a = await writeEvidence(evidenceDir, input());
    const b = await writeEvidence(evidenceDir, input());
    assert.notEqual(a.runId, b.runId);
    assert.match(b.runId, RUN_ID_RE);
  });

  it('extra files may not escape the run folder or replace a Controller file', async () => {
    await assert.rejects(writeEvidence(evidenceDir, input({ extraFiles: [{ path: '../x', content: 'x' }] })), /not allowed/);
    await assert.rejects(writeEvidence(evidenceDir, input({ extraFiles: [{ path: 'gate.log', content: 'PASS' }] })), /overwrite/);
  });

  /** A repository on branch main with a.txt committed as "first"; returns its git runner. */
  function oneCommitRepo(repo: string): (...args: string[]) => Buffer {
    fs.mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd: repo, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'a');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'first');
    return git;
  }

  it('git_info.json comes from the real repository, without credentials in the remote', async () => {
    const repo = path.join(tmp, 'repo');
    const git = oneCommitRepo(repo);
    git('remote', 'add', 'origin', 'https://user:s3cret@git.example.invalid/org/repo.git');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b');
    fs.writeFileSync(path.join(repo, 'new.txt'), 'n');
    const info = await collectGitInfo(repo);
    assert.equal(info.branch, 'main');
    assert.equal(info.commit_message, 'first');
    assert.match(info.commit!, /^[0-9a-f]{40}$/);
    assert.equal(info.status, 'dirty');
    assert.deepEqual(info.modified_files, ['a.txt']);
    assert.deepEqual(info.added_files, ['new.txt']);
    assert.equal(info.remote.origin, 'https://git.example.invalid/org/repo.git');
    assert.equal(stripUrlCredentials('git@host:org/r.git'), 'git@host:org/r.git');
    assert.equal((await collectGitInfo(tmp)).status, 'unknown');
  });

  it('git_info.json names renames, deletions, staged additions, the tracking branch and a detached HEAD', async () => {
    const repo = path.join(tmp, 'states');
    const git = oneCommitRepo(repo);
    fs.writeFileSync(path.join(repo, 'b.txt'), 'b');
    fs.writeFileSync(path.join(repo, 'c d.txt'), 'c');
    git('add', 'b.txt', 'c d.txt');
    git('commit', '-q', '-m', 'second');
    git('config', 'branch.main.remote', '.');
    git('config', 'branch.main.merge', 'refs/heads/main');
    git('mv', 'b.txt', 'renamed.txt');
    fs.rmSync(path.join(repo, 'c d.txt'));
    fs.writeFileSync(path.join(repo, 'staged new.txt'), 'n');
    git('add', 'staged new.txt');
    fs.writeFileSync(path.join(repo, 'untracked.txt'), 'u');
    const info = await collectGitInfo(repo);
    assert.equal(info.branch, 'main');
    assert.equal(info.remote.tracking_branch, 'main');
    assert.equal(info.commit_message, 'second');
    assert.deepEqual(info.modified_files, ['renamed.txt']);
    assert.deepEqual(info.added_files, ['staged new.txt', 'untracked.txt']);
    assert.deepEqual(info.deleted_files, ['c d.txt']);
    assert.equal(info.remote.origin, null);
    git('checkout', '-q', '--detach');
    const detached = await collectGitInfo(repo);
    assert.equal(detached.branch, null);
    assert.equal(detached.commit, info.commit);
    fs.rmSync(path.join(repo, 'untracked.txt'));
    git('reset', '-q', '--hard');
    assert.equal((await collectGitInfo(repo)).status, 'clean');
  });

  it('SEC-10 collecting git_info.json runs no program the repository configures (fsmonitor, hooks)', async () => {
    const repo = path.join(tmp, 'hostile');
    const git = oneCommitRepo(repo);
    const marker = path.join(tmp, 'ran');
    const script = path.join(tmp, 'fsmonitor.sh');
    fs.writeFileSync(script, `#!/bin/sh\necho ran >> ${JSON.stringify(marker)}\n`, { mode: 0o755 });
    git('config', 'core.fsmonitor', script);
    git('config', 'core.hooksPath', tmp);
    // The script really would run: plain `git status` in this repository calls it.
    execFileSync('git', ['status', '--porcelain'], { cwd: repo, stdio: 'pipe' });
    assert.ok(fs.existsSync(marker), 'control: git runs the configured fsmonitor');
    fs.rmSync(marker);
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b');
    const info = await collectGitInfo(repo);
    assert.equal(info.status, 'dirty');
    assert.deepEqual(info.modified_files, ['a.txt']);
    assert.equal(fs.existsSync(marker), false, 'the fsmonitor did not run');
  });
});

describe('evidence index', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'evindex-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('lists runs newest first, reads only new or changed manifests, and sums costs by month', async () => {
    const evidenceDir = path.join(tmp, 'evidence');
    const cacheFile = path.join(tmp, 'autopilot', 'evidence_index.json');
    const git = emptyGitInfo(new Date());
    const mk = (iso: string, ticket: string, cost: number, status: 'PASS' | 'FAIL' = 'PASS') =>
      writeEvidence(evidenceDir, { ticketId: ticket, status, startedAt: new Date(iso), endedAt: new Date(iso), git, costUsd: cost });
    await mk('2026-01-05T10:00:00Z', 'D201', 0.1);
    await mk('2026-01-06T10:00:00Z', 'D202', 0.25, 'FAIL');
    await mk('2026-02-01T10:00:00Z', 'D201', 0.5);
    fs.mkdirSync(path.join(evidenceDir, 'not-a-run'));
    fs.mkdirSync(path.join(evidenceDir, '20260301_000000_d999_0000000')); // being written: no manifest yet

    const first = await loadEvidenceIndex(evidenceDir, { cacheFile });
    assert.equal(first.read, 4);
    assert.deepEqual(first.entries.map((e) => `${e.ticketId}:${e.status}`), ['null:INCOMPLETE', 'D201:PASS', 'D202:FAIL', 'D201:PASS']);
    const second = await loadEvidenceIndex(evidenceDir, { cacheFile });
    assert.equal(second.read, 1, 'only the incomplete run is read again');
    await mk('2026-02-02T10:00:00Z', 'D203', 0.05);
    const third = await loadEvidenceIndex(evidenceDir, { cacheFile });
    assert.equal(third.read, 2);
    assert.equal(third.entries[1].ticketId, 'D203');
  });
});
