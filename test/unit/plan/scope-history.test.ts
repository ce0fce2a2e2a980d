import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { historyCandidates, namedIds } from '../../../src/core/plan/scope/history-source';
import type { ScopeCandidate } from '../../../src/core/plan/scope/scope-types';

const RUN1 = '20260101_100000_d201_abc1234';
const RUN2 = '20260102_100000_d201_abc1234';
const RUN_FAIL = '20260103_100000_d201_abc1234';
const RUN_OTHER = '20260101_100000_d2010_abc1234';

function manifest(runId: string, ticket: string, acIds: string[], status: string): string {
  return JSON.stringify({
    schema_version: 1, run_id: runId, timestamp: '2026-01-01T10:00:00+00:00', d_number: ticket.toLowerCase(), ticket_id: ticket,
    task_name: '', ac_ids: acIds, status, duration_seconds: 1, git: { branch: 'main', commit: null, status: 'clean' },
    gates: {}, guards: {}, gate_cache: null, runner: null, worker: null, cost_usd: null, profit_related: false, environment: {}, files: [],
  });
}

const passMessage = (ticket: string, acs: string, run: string, changed: string) =>
  `factory: ${ticket} PASS — ${acs} DONE\n\nEvidence: logs/evidence/${run}/\nCost: $0.0100 (agent replay, risk LOW)\nChanged: ${changed}\n\nFactory-Run: ${run}\n`;

describe('scope: history and evidence candidates', () => {
  let repo: string;
  const sha: Record<string, string> = {};
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], { encoding: 'utf8', stdio: 'pipe' });
  /** One commit: `null` deletes a file. */
  function commit(name: string, message: string, files: Record<string, string | null>): void {
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(repo, rel);
      if (content === null) fs.rmSync(abs);
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
      }
    }
    git('add', '-A');
    git('commit', '-q', '-m', message);
    sha[name] = git('rev-parse', '--short=7', 'HEAD').trim();
  }

  before(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'scope-history-'));
    git('init', '-q');
    commit('base', 'initial layout', { 'README.md': 'x\n', 'D_ROADMAP.md': '# roadmap\n' });
    commit('ac1', 'D201::AC-1 add pricing', { 'pkg/pricing.py': '1\n', 'docs/notes.md': 'n\n' });
    commit('other', 'D2010: another ticket', { 'other/x.py': 'x\n' });
    commit('dash', 'D201-2: a sibling ticket', { 'other/y.py': 'y\n' });
    commit('lower', 'fix d201 lower case', { 'other/z.py': 'z\n' });
    commit('dotted', 'P.2 (a dotted id)', { 'misc/dot.txt': 'd\n' });
    commit('lookalike', 'Px2 looks like it to a regex', { 'misc/x.txt': 'x\n' });
    commit('fix', 'Fix an edge case of D201.', { 'pkg/pricing.py': '2\n', 'dir with space/ünï café.py': 'u\n' });
    commit('korean', 'D201을 고침 (가격)', { 'pkg/korean.py': 'k\n' });
    commit('temp', 'D201::AC-2 temporary helper', { 'pkg/old.py': 'o\n' });
    commit('gone', 'remove the helper', { 'pkg/old.py': null });
    commit('pass', passMessage('D201', 'D201::AC-2', RUN1, 'pkg/fees.py (modified)'), {
      'pkg/fees.py': 'f\n',
      'D_ROADMAP.md': '# roadmap v2\n',
      [`logs/evidence/${RUN1}/manifest.json`]: manifest(RUN1, 'D201', ['D201::AC-2'], 'PASS'),
      'logs/autopilot/history.jsonl': '{}\n',
      '.factory/config.json': '{}\n',
    });
    // A PASS commit whose subject was rewritten (say, squashed): found by its trailer alone.
    commit('squash', `Squashed work (#12)\n\nFactory-Run: ${RUN2}\n`, {
      'lib/squashed.ts': 's\n',
      [`logs/evidence/${RUN2}/manifest.json`]: manifest(RUN2, 'D201', ['D201::AC-3'], 'PASS'),
    });
    // A FAIL run's commit (not naming the ticket): its files are no evidence.
    commit('fail', `wip\n\nFactory-Run: ${RUN_FAIL}\n`, {
      'pkg/wip.py': 'w\n',
      [`logs/evidence/${RUN_FAIL}/manifest.json`]: manifest(RUN_FAIL, 'D201', ['D201::AC-4'], 'FAIL'),
    });
    commit('otherpass', passMessage('D2010', 'D2010::AC-1', RUN_OTHER, 'other/w.py (added)'), {
      'other/w.py': 'w\n',
      [`logs/evidence/${RUN_OTHER}/manifest.json`]: manifest(RUN_OTHER, 'D2010', ['D2010::AC-1'], 'PASS'),
    });
  });
  after(() => fs.rmSync(repo, { recursive: true, force: true }));

  const ask = (extra: Partial<Parameters<typeof historyCandidates>[0]> = {}) =>
    historyCandidates({ root: repo, ticketId: 'D201', acIds: ['D201::AC-1', 'D201::AC-2', 'D201::AC-3'], evidenceDir: 'logs/evidence', ...extra });

  const expected = (): ScopeCandidate[] => [
    { path: 'dir with space/ünï café.py', cls: 'modify', reason: `changed by ${sha.fix} for D201`, source: 'history' },
    { path: 'docs/notes.md', cls: 'modify', reason: `changed by ${sha.ac1} for D201::AC-1`, source: 'history' },
    { path: 'pkg/fees.py', cls: 'modify', reason: `changed by ${sha.pass} for D201::AC-2`, source: 'history' },
    { path: 'pkg/korean.py', cls: 'modify', reason: `changed by ${sha.korean} for D201`, source: 'history' },
    { path: 'pkg/pricing.py', cls: 'modify', reason: `changed by ${sha.fix} for D201 (+1 earlier commit)`, source: 'history' },
    { path: 'lib/squashed.ts', cls: 'modify', reason: `in the evidence of ${RUN2} (D201::AC-3)`, source: 'evidence' },
    { path: 'pkg/fees.py', cls: 'modify', reason: `in the evidence of ${RUN1} (D201::AC-2)`, source: 'evidence' },
  ];

  it('finds the files of commits naming the ticket or its ACs and of its PASS evidence runs, with reasons', async () => {
    // Not D2010, D201-2 or d201; not the deleted pkg/old.py; not the Controller's records.
    assert.deepEqual(await ask(), expected());
  });

  it('drops paths missing from the tracked-file set when one is given', async () => {
    const files = new Set(expected().map((c) => c.path).filter((p) => p !== 'pkg/korean.py' && p !== 'lib/squashed.ts'));
    assert.deepEqual(await ask({ files }), expected().filter((c) => files.has(c.path)));
  });

  it('ignores a symlinked manifest and a symlinked run folder', async () => {
    const ev = path.join(repo, 'logs', 'evidence');
    const moved = path.join(repo, 'elsewhere');
    fs.renameSync(path.join(ev, RUN2), moved);
    fs.mkdirSync(path.join(ev, RUN2));
    fs.symlinkSync(path.join(moved, 'manifest.json'), path.join(ev, RUN2, 'manifest.json'));
    try {
      const noSquash = expected().filter((c) => c.path !== 'lib/squashed.ts');
      assert.deepEqual(await ask(), noSquash);
      fs.rmSync(path.join(ev, RUN2), { recursive: true });
      fs.symlinkSync(moved, path.join(ev, RUN2));
      assert.deepEqual(await ask(), noSquash);
    } finally {
      fs.rmSync(path.join(ev, RUN2), { recursive: true, force: true });
      fs.renameSync(moved, path.join(ev, RUN2));
    }
  });

  it('honours the configured Controller files and evidence folder', async () => {
    const got = await ask({ controllerFiles: ['pkg/**'], evidenceDir: 'no/such/dir' });
    assert.deepEqual(got.map((c) => c.path), [
      '.factory/config.json',
      'D_ROADMAP.md',
      'dir with space/ünï café.py',
      'docs/notes.md',
      'logs/autopilot/history.jsonl',
      `logs/evidence/${RUN1}/manifest.json`,
    ]);
  });

  it('returns nothing outside a git repository, and rejects when cancelled', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'scope-history-empty-'));
    try {
      assert.deepEqual(await historyCandidates({ root: empty, ticketId: 'D201', acIds: [] }), []);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    // Cancelled before git starts (src/core/git reads the repository's config first: FactoryError `interrupted`) or while it runs (AbortError).
    await assert.rejects(ask({ signal: AbortSignal.abort() }), (e: Error & { code?: string }) => e.name === 'AbortError' || e.code === 'interrupted');
  });

  it('hands git the ids as literal whole words', async () => {
    assert.deepEqual(await historyCandidates({ root: repo, ticketId: 'P.2', acIds: [] }), [
      { path: 'misc/dot.txt', cls: 'modify', reason: `changed by ${sha.dotted} for P.2`, source: 'history' },
    ]);
  });

  it('matches ids as whole words only', () => {
    const ids = ['D201', 'D201::AC-2'];
    assert.deepEqual(namedIds('factory: D201 PASS — D201::AC-2 DONE', ids), ['D201', 'D201::AC-2']);
    assert.deepEqual(namedIds('see D201::AC-2.', ids), ['D201::AC-2']);
    assert.deepEqual(namedIds('D201::AC-20 and D2010 and xD201 and D201-2 and d201', ids), ['D201']);
    assert.deepEqual(namedIds('D2010, D201_1', ids), []);
    assert.deepEqual(namedIds('D201을 고침', ids), ['D201']);
  });
});
