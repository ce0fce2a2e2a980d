import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { emptyGitInfo } from '../../../src/core/evidence/git-info';
import type { EvidenceIndexEntry } from '../../../src/core/evidence/run-index';
import { writeEvidence } from '../../../src/core/evidence/writer';
import { appendHistory } from '../../../src/core/history/history';
import { loadRunsData, readRunFiles } from '../../../src/extension/views/runs/runs-data';
import { buildRunRows, evidenceFileRows, formatCost, formatDuration, runStatusIcon, runTooltip } from '../../../src/extension/views/runs/runs-rows';

function entry(runId: string, extra: Partial<EvidenceIndexEntry> = {}): EvidenceIndexEntry {
  return {
    runId,
    ticketId: 'D201',
    status: 'PASS',
    timestamp: null,
    durationSeconds: 65,
    costUsd: 0.12,
    gates: { doctor: 'PASS', fast: 'PASS' },
    cacheHit: false,
    complete: true,
    mtimeMs: 1,
    size: 1,
    ...extra,
  };
}

const UTC = { timeZone: 'UTC', evidenceDir: 'logs/evidence' };

describe('Runs rows (evidence index + history.jsonl, merged by run id)', () => {
  const evidence = [
    entry('20261125_110514_d201_abcdef0', { timestamp: '2026-11-25T11:05:14.400Z', durationSeconds: 3.1, costUsd: 0.05 }),
    entry('20261125_100000_d101_abcdef0', { ticketId: 'D101', timestamp: '2026-11-25T10:00:00.000Z', costUsd: null }),
    entry('20261125_120000_d9_abcdef0', { ticketId: null, status: 'INCOMPLETE', complete: false, durationSeconds: null, costUsd: null, gates: {} }),
  ];
  const history = [
    // The PASS with evidence: history's metered cost wins over the manifest's figure.
    { runId: '20261125_110514_d201_abcdef0', ticketId: 'D201', acIds: ['D201::AC-1'], status: 'PASS', endedAt: '2026-11-25T11:05:20Z', costUsd: 0.42, agent: 'replay', reasons: [] },
    // A FAIL with no evidence folder: only history knows it; duration from the run id's start to endedAt.
    { runId: '20261125_113000_d202_abcdef0', ticketId: 'D202', acIds: ['D202::AC-1', 'D202::AC-2'], status: 'FAIL', endedAt: '2026-11-25T11:33:05Z', costUsd: 0.31, agent: 'replay', reasons: ['engine/pnl.py: out-of-scope', 'gate fast: FAIL'] },
    // An ABORTED line from crash recovery: one `reason`, no cost.
    { runId: '20261125_090000_d301_abcdef0', ticketId: 'D301', status: 'ABORTED', endedAt: '2026-11-25T09:10:00Z', costUsd: 0, reason: 'the Controller stopped mid-cycle' },
    // BLOCKED, written twice for one run id: the last record wins.
    { runId: '20261125_080000_d302_abcdef0', ticketId: 'D302', status: 'FAIL', endedAt: '2026-11-25T08:01:00Z', costUsd: 0.1 },
    { runId: '20261125_080000_d302_abcdef0', ticketId: 'D302', status: 'BLOCKED', cause: 'FAIL', endedAt: '2026-11-25T08:02:00Z', costUsd: 0.2, reasons: ['ticket D302 set BLOCKED: retry cap: 3 failed attempts (cap 3)'] },
    { runId: '20261125_070000_d303_abcdef0', ticketId: 'D303', status: 'TIMEOUT', endedAt: '2026-11-25T07:30:00Z', costUsd: 1 },
  ];
  const rows = buildRunRows(evidence, history, UTC);
  const byId = (id: string) => rows.find((r) => r.runId === id)!;

  it('a person\'s unblock (issue 20) is listed as UNBLOCKED with its own icon, not as another BLOCKED cycle', () => {
    const line = { runId: '20261126_090000_d301_unblock', ticketId: 'D301', status: 'BLOCKED', cause: 'BLOCKED', endedAt: '2026-11-26T09:00:00Z', costUsd: 0, reasons: ['unblocked by a person'], unblocked: { by: 'a person', from: 'BLOCKED (retry cap)', to: 'OPEN' } };
    const row = buildRunRows([], [line], UTC)[0];
    assert.equal(row.status, 'UNBLOCKED');
    assert.equal(row.icon.id, 'debug-restart');
    assert.equal(buildRunRows([], [{ ...line, unblocked: undefined }], UTC)[0].status, 'BLOCKED');
  });

  it('lists every run once, newest first, whichever file it came from', () => {
    assert.deepEqual(
      rows.map((r) => [r.runId, r.status]),
      [
        ['20261125_120000_d9_abcdef0', 'INCOMPLETE'],
        ['20261125_113000_d202_abcdef0', 'FAIL'],
        ['20261125_110514_d201_abcdef0', 'PASS'],
        ['20261125_100000_d101_abcdef0', 'PASS'],
        ['20261125_090000_d301_abcdef0', 'ABORTED'],
        ['20261125_080000_d302_abcdef0', 'BLOCKED'],
        ['20261125_070000_d303_abcdef0', 'TIMEOUT'],
      ],
    );
  });

  it('label is the ticket, description status · cost · duration · start; history cost over the manifest, evidence duration over history', () => {
    const pass = byId('20261125_110514_d201_abcdef0');
    assert.equal(pass.label, 'D201');
    assert.equal(pass.description, 'PASS · $0.42 · 3s · 2026-11-25 11:05');
    const fail = byId('20261125_113000_d202_abcdef0');
    assert.equal(fail.label, 'D202');
    assert.equal(fail.description, 'FAIL · $0.31 · 3m 05s · 2026-11-25 11:30');
    // Evidence without history: the manifest's figures; no cost recorded → none shown.
    assert.equal(byId('20261125_100000_d101_abcdef0').description, 'PASS · 1m 05s · 2026-11-25 10:00');
    // A folder without a valid manifest and no history: the run id's label, INCOMPLETE.
    const broken = byId('20261125_120000_d9_abcdef0');
    assert.equal(broken.label, 'D9');
    assert.equal(broken.description, 'INCOMPLETE · 2026-11-25 12:00');
  });

  it('one icon per outcome, and the context value says whether there is an evidence folder', () => {
    assert.deepEqual(
      rows.map((r) => r.icon.id),
      ['warning', 'error', 'pass-filled', 'pass-filled', 'debug-stop', 'circle-slash', 'watch'],
    );
    for (const s of ['PASS', 'FAIL', 'BLOCKED', 'TIMEOUT', 'ABORTED']) assert.notEqual(runStatusIcon(s).id, runStatusIcon('SOMETHING').id, s);
    assert.equal(new Set(['PASS', 'FAIL', 'BLOCKED', 'TIMEOUT', 'ABORTED'].map((s) => runStatusIcon(s).id)).size, 5);
    assert.equal(byId('20261125_110514_d201_abcdef0').contextValue, 'run;evidence;status:PASS');
    assert.equal(byId('20261125_113000_d202_abcdef0').contextValue, 'run;status:FAIL');
    assert.equal(byId('20261125_113000_d202_abcdef0').hasEvidence, false);
  });

  it('the tooltip names the ACs, the reasons, the gates and where the evidence is', () => {
    const fail = byId('20261125_113000_d202_abcdef0').tooltip;
    assert.match(fail, /^D202 — FAIL\nRun 20261125_113000_d202_abcdef0\n/);
    assert.match(fail, /ACs: D202::AC-1, D202::AC-2/);
    assert.match(fail, /Reasons:\n {2}• engine\/pnl\.py: out-of-scope\n {2}• gate fast: FAIL/);
    assert.match(fail, /No evidence folder/);
    const pass = byId('20261125_110514_d201_abcdef0').tooltip;
    assert.match(pass, /ACs: D201::AC-1/);
    assert.match(pass, /Agent: replay/);
    assert.match(pass, /Gate: doctor PASS, fast PASS/);
    assert.match(pass, /Evidence: logs\/evidence\/20261125_110514_d201_abcdef0\//);
    assert.match(byId('20261125_090000_d301_abcdef0').tooltip, /• the Controller stopped mid-cycle/);
    const blocked = byId('20261125_080000_d302_abcdef0');
    assert.equal(blocked.costUsd, 0.2);
    assert.match(blocked.tooltip, /Cause: FAIL/);
    assert.match(blocked.tooltip, /retry cap/);
  });

  it('a run with evidence but no ACs in history takes them from its manifest (on hover)', () => {
    const d101 = byId('20261125_100000_d101_abcdef0');
    assert.match(d101.tooltip, /ACs: \(none recorded\)/);
    assert.match(runTooltip(d101, UTC, ['D101::AC-1', 'D101::AC-2']), /ACs: D101::AC-1, D101::AC-2/);
  });

  it('values from the repository files are checked and cut: no control characters, no huge strings, odd types ignored', () => {
    const [row] = buildRunRows([], [{ runId: '20261125_110000_x_abcdef0', ticketId: `T\u001b[31m${'x'.repeat(5000)}`, status: 'FAIL', costUsd: 'lots', endedAt: 'not a date', reasons: ['a\nb', 42, null], acIds: 'D1' }], UTC);
    assert.ok(row);
    assert.ok(row.label.length <= 300);
    assert.ok(!row.label.includes('\u001b'), 'no escape character');
    assert.equal(row.costUsd, null);
    assert.equal(row.durationSeconds, null);
    assert.deepEqual(row.reasons, ['a b']);
    assert.deepEqual(row.acIds, []);
    // A record without a run id is skipped.
    assert.equal(buildRunRows([], [{ ticketId: 'D1', status: 'PASS' }]).length, 0);
  });

  it('formats durations and costs', () => {
    assert.deepEqual([0, 42.4, 60, 185, 3600 + 125].map(formatDuration), ['0s', '42s', '1m 00s', '3m 05s', '1h 02m']);
    assert.deepEqual([0, 0.004, 0.42, 1].map(formatCost), ['$0.00', '$0.0040', '$0.42', '$1.00']);
  });

  it("a run's children are its evidence files in the manifest's order; a missing one is marked", () => {
    const files = evidenceFileRows('R1', [
      { path: 'manifest.json', bytes: 2048, present: true },
      { path: 'artifacts/stage_fast.log', bytes: 12, present: true },
      { path: 'kpi.json', bytes: null, present: false },
    ]);
    assert.deepEqual(
      files.map((f) => [f.label, f.description, f.contextValue]),
      [
        ['manifest.json', '2.0 KB', 'evidenceFile'],
        ['artifacts/stage_fast.log', '12 B', 'evidenceFile'],
        ['kpi.json', 'missing', 'evidenceFile;missing'],
      ],
    );
    assert.equal(files[2]?.icon.id, 'warning');
  });
});

describe('Runs data (real evidence folders and history.jsonl)', () => {
  let root: string;
  const config = defaultConfig();
  const git = emptyGitInfo(new Date('2026-11-25T11:00:00Z'));

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-runs-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('merges the evidence written by the writer with the history the cycle appends, FAILs without evidence included', async () => {
    const evidenceDir = path.join(root, config.paths.evidence);
    const pass = await writeEvidence(evidenceDir, { ticketId: 'D201', acIds: ['D201::AC-1'], status: 'PASS', startedAt: new Date('2026-11-25T11:00:00Z'), endedAt: new Date('2026-11-25T11:01:30Z'), git, costUsd: 0.05, extraFiles: [{ path: 'artifacts/note.txt', content: 'hi' }] });
    const history = path.join(root, config.paths.autopilot, 'history.jsonl');
    await appendHistory(history, { runId: pass.runId, ticketId: 'D201', acIds: ['D201::AC-1'], status: 'PASS', endedAt: '2026-11-25T11:01:31Z', costUsd: 0.07 });
    await appendHistory(history, { runId: '20261125_120000_d202_0000000', ticketId: 'D202', acIds: ['D202::AC-1'], status: 'FAIL', endedAt: '2026-11-25T12:00:40Z', costUsd: 0.3, reasons: ['out of scope: engine/pnl.py'] });

    const cacheFile = path.join(root, config.paths.autopilot, 'evidence_index.json');
    const data = await loadRunsData(root, config.paths.evidence, config.paths.autopilot, { cacheFile });
    assert.deepEqual(data.problems, []);
    assert.ok(fs.existsSync(cacheFile), 'the index cache is kept when asked for');
    const rows = buildRunRows(data.evidence, data.history, { timeZone: 'UTC' });
    assert.deepEqual(
      rows.map((r) => [r.label, r.status, r.hasEvidence, r.costUsd, r.durationSeconds]),
      [
        ['D202', 'FAIL', false, 0.3, 40],
        ['D201', 'PASS', true, 0.07, 90],
      ],
    );

    const files = readRunFiles(pass.dir);
    assert.equal(files.source, 'manifest');
    assert.deepEqual(files.acIds, ['D201::AC-1']);
    assert.equal(files.files[0]?.path, 'manifest.json');
    assert.deepEqual(
      files.files.slice(1).map((f) => f.path),
      pass.manifest.files.map((f) => f.path),
      "the manifest's list, in its order",
    );
    assert.ok(files.files.every((f) => f.present && typeof f.bytes === 'number'));
    assert.ok(files.files.some((f) => f.path === 'artifacts/note.txt'));
  });

  it('a tampered history is still listed and its problem reported; no files at all is an empty list', async () => {
    assert.deepEqual(await loadRunsData(root, 'logs/evidence', 'logs/autopilot'), { evidence: [], history: [], problems: [] });
    const history = path.join(root, 'logs', 'autopilot', 'history.jsonl');
    await appendHistory(history, { runId: '20261125_120000_d1_0000000', ticketId: 'D1', status: 'PASS', endedAt: '2026-11-25T12:00:01Z', costUsd: 0 });
    fs.writeFileSync(history, fs.readFileSync(history, 'utf8').replace('"PASS"', '"FAIL"'));
    const data = await loadRunsData(root, 'logs/evidence', 'logs/autopilot');
    assert.equal(data.history.length, 1);
    assert.match(data.problems.join('\n'), /history\.jsonl:1: tampered/);
  });

  it('SEC-20: manifest paths that leave the run folder, symlinks and missing files are never offered as files to open', () => {
    const runDir = path.join(root, 'logs', 'evidence', '20261125_120000_d9_abcdef0');
    fs.mkdirSync(path.join(runDir, 'artifacts'), { recursive: true });
    fs.writeFileSync(path.join(root, 'secret.txt'), 'host secret');
    fs.writeFileSync(path.join(runDir, 'kpi.json'), '{}');
    fs.symlinkSync(path.join(root, 'secret.txt'), path.join(runDir, 'gate.log'));
    fs.symlinkSync(root, path.join(runDir, 'linked'));
    fs.writeFileSync(
      path.join(runDir, 'manifest.json'),
      JSON.stringify({ ac_ids: ['D9::AC-1'], files: [{ path: '../../../secret.txt', bytes: 1 }, { path: '/etc/passwd', bytes: 1 }, { path: 'kpi.json', bytes: 2 }, { path: 'gate.log', bytes: 3 }, { path: 'linked/secret.txt', bytes: 4 }, { path: 'error.log', bytes: 5 }] }),
    );
    const files = readRunFiles(runDir);
    assert.deepEqual(
      files.files.map((f) => [f.path, f.present]),
      [
        ['manifest.json', true],
        ['kpi.json', true],
        ['gate.log', false],
        ['linked/secret.txt', false],
        ['error.log', false],
      ],
    );
  });

  it('a run folder without a readable manifest lists its regular files instead', () => {
    const runDir = path.join(root, 'run');
    fs.mkdirSync(path.join(runDir, 'artifacts'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'gate.log'), 'x');
    fs.writeFileSync(path.join(runDir, 'artifacts', 'a.log'), 'y');
    fs.writeFileSync(path.join(runDir, 'manifest.json'), '{ not json');
    fs.symlinkSync(path.join(root), path.join(runDir, 'escape'));
    const files = readRunFiles(runDir);
    assert.equal(files.source, 'listing');
    assert.deepEqual(files.files.map((f) => f.path), ['artifacts/a.log', 'gate.log', 'manifest.json']);
  });
});
