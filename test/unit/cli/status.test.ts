import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireCorpus } from '../../support/engines';
import { buildCli, copyDemo, DEMO_DIR, runCli, tempDirs } from './cli-process';

interface StatusJson {
  acs: { total: number; done: number; byStatus: Record<string, number> };
  tickets: { total: number; byStatus: Record<string, number>; list: { id: string; status: string }[] };
  next: { acId: string; ticketId: string } | null;
  upcoming: { acId: string }[];
  lastEvidence: { runId: string; status?: string; path: string } | null;
  diagnostics: { file: string; line: number; severity: string; message: string }[];
  config: { file: string | null };
}

function statusJson(root: string): StatusJson {
  const r = runCli(['status', '--root', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

/** Ledger rows counted by a plain line scan (independent of the Markdown parser under test). */
function ledgerRows(ledgerFile: string): { id: string; status: string }[] {
  return fs
    .readFileSync(ledgerFile, 'utf8')
    .split('\n')
    .filter((l) => /^\|\s*[^|]+::AC-[^|]+\|/.test(l))
    .map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return { id: cells[1], status: cells[4] };
    });
}

describe('factory status (real process: node dist/cli.js)', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('summarises the example: progress, pointer, next three, tickets by status, last evidence, no diagnostics', () => {
    const s = statusJson(DEMO_DIR);
    const rows = ledgerRows(path.join(DEMO_DIR, 'docs/v2/design/AC_LEDGER.md'));
    assert.equal(s.acs.total, rows.length);
    assert.equal(s.acs.byStatus.DONE, rows.filter((r) => r.status === 'DONE').length);
    assert.equal(s.acs.byStatus.OPEN, rows.filter((r) => r.status === 'OPEN').length);
    const firstOpen = rows.find((r) => r.status === 'OPEN')!;
    assert.deepEqual(s.next && { acId: s.next.acId, ticketId: s.next.ticketId }, { acId: firstOpen.id, ticketId: firstOpen.id.split('::')[0] });
    assert.deepEqual(
      s.upcoming.map((u) => u.acId),
      rows.filter((r) => r.status === 'OPEN').slice(1, 4).map((r) => r.id),
    );
    assert.equal(s.tickets.total, 6);
    assert.equal(s.tickets.byStatus.DONE, 2);
    assert.equal(s.tickets.byStatus.PARTIAL, 1);
    assert.deepEqual(s.diagnostics, []);
    assert.equal(s.config.file, '.factory/config.json');
    const newest = fs.readdirSync(path.join(DEMO_DIR, 'logs/evidence')).sort().at(-1);
    assert.equal(s.lastEvidence?.runId, newest);
    assert.equal(s.lastEvidence?.status, 'PASS');

    const human = runCli(['status', '--root', DEMO_DIR]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`Progress +${s.acs.done}/${s.acs.total} ACs DONE`));
    assert.match(human.stdout, new RegExp(`Current +${firstOpen.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    assert.match(human.stdout, /Problems +none/);
    assert.ok(human.stdout.includes(s.lastEvidence.path), 'the evidence run is shown');
  });

  it('reads the real corpus in place: 191-row ledger, the pointer the roadmap itself records', function () {
    const corpus = requireCorpus(this);
    const s = statusJson(corpus);
    const rows = ledgerRows(path.join(corpus, 'docs/v2/design/AC_LEDGER.md'));
    assert.equal(s.acs.total, rows.length);
    assert.equal(s.acs.byStatus.DONE, rows.filter((r) => r.status === 'DONE').length);
    // The corpus roadmap writes its own "current position" row; our queue head must agree with it.
    const roadmap = fs.readFileSync(path.join(corpus, 'D_ROADMAP.md'), 'utf8');
    const pointer = /\|\s*\*\*현재 위치\*\*\s*\|\s*(\S+)/.exec(roadmap)?.[1];
    assert.ok(pointer, 'the corpus roadmap has a current-position row');
    assert.equal(s.next?.acId, pointer);
    assert.equal(s.upcoming.length, 3);
    assert.ok(s.tickets.total > 40, `tickets: ${s.tickets.total}`);
    assert.equal(s.config.file, null, 'no config: defaults apply');
    assert.equal(s.lastEvidence, null);
    for (const d of s.diagnostics) {
      assert.equal(typeof d.file, 'string');
      assert.ok(d.line >= 1);
      assert.ok(['error', 'warning', 'info'].includes(d.severity));
      assert.ok(d.message.length > 0);
    }
  });

  it('SEC-19 a corrupted config makes factory status exit 2 naming the JSON path', () => {
    const root = copyDemo(tmp.make('status-badcfg'));
    fs.writeFileSync(path.join(root, '.factory/config.json'), '{\n  "worker": {\n    "memoryMb": "lots"\n  }\n}\n');
    const r = runCli(['status', '--root', root, '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /\.factory\/config\.json:3: worker\.memoryMb: expected number, received string/);
  });

  it('exits 2 with one line on a config that is not JSON', () => {
    const root = copyDemo(tmp.make('status-badjson'));
    fs.writeFileSync(path.join(root, '.factory/config.json'), '{\n  "git": { "push": true,\n}\n');
    const r = runCli(['status', '--root', root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^factory: invalid config \.factory\/config\.json:3: invalid JSON: /);
  });

  it('exits 2 naming the missing SSOT document (and on an empty folder)', () => {
    const root = copyDemo(tmp.make('status-noledger'));
    fs.rmSync(path.join(root, 'docs/v2/design/AC_LEDGER.md'));
    const r = runCli(['status', '--root', root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing SSOT document\(s\).*docs\/v2\/design\/AC_LEDGER\.md/);
    assert.doesNotMatch(r.stderr, /D_ROADMAP\.md,/, 'only the missing file is named');

    const empty = runCli(['status', '--root', tmp.make('status-empty')]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /D_ROADMAP\.md, docs\/v2\/design\/AC_LEDGER\.md/);
  });

  it('follows the SSOT paths the config names', () => {
    const root = copyDemo(tmp.make('status-paths'));
    fs.renameSync(path.join(root, 'D_ROADMAP.md'), path.join(root, 'ROADMAP.md'));
    const cfg = JSON.parse(fs.readFileSync(path.join(root, '.factory/config.json'), 'utf8'));
    cfg.ssot = { roadmap: 'ROADMAP.md' };
    fs.writeFileSync(path.join(root, '.factory/config.json'), JSON.stringify(cfg));
    const s = statusJson(root);
    assert.equal(s.tickets.total, 6);
    assert.deepEqual(s.diagnostics, []);
  });

  it('reports SSOT problems as diagnostics with file and line, and still exits 0', () => {
    const root = copyDemo(tmp.make('status-diag'));
    const ledger = path.join(root, 'docs/v2/design/AC_LEDGER.md');
    const lines = fs.readFileSync(ledger, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.startsWith('| D201::AC-2 '));
    lines.splice(at + 1, 0, '| D201::AC-2 | the same id again | D200 | OPEN | NONE | UNKNOWN | — | — |');
    fs.writeFileSync(ledger, lines.join('\n'));
    const s = statusJson(root);
    const dup = s.diagnostics.find((d) => d.severity === 'error' && d.message.includes('D201::AC-2'));
    assert.ok(dup, JSON.stringify(s.diagnostics));
    assert.equal(dup.file, 'docs/v2/design/AC_LEDGER.md');
    assert.equal(dup.line, at + 2);
    const human = runCli(['status', '--root', root]);
    assert.equal(human.code, 0);
    assert.ok(human.stdout.includes(`docs/v2/design/AC_LEDGER.md:${at + 2}: error:`), human.stdout);
  });

  it('reports an AC row deleted from the ledger since git HEAD (SEC-30 through factory status)', () => {
    const root = copyDemo(tmp.make('status-deleted'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-q', '-m', 'base');
    const ledger = path.join(root, 'docs/v2/design/AC_LEDGER.md');
    fs.writeFileSync(ledger, fs.readFileSync(ledger, 'utf8').split('\n').filter((l) => !l.startsWith('| D302::AC-2 ')).join('\n'));
    const s = statusJson(root);
    const deleted = s.diagnostics.filter((d) => d.message.includes('D302::AC-2'));
    assert.equal(deleted.length, 1, JSON.stringify(s.diagnostics));
    assert.equal(deleted[0].severity, 'error');
    assert.equal(deleted[0].file, 'docs/v2/design/AC_LEDGER.md');
    assert.equal(statusJson(copyDemo(tmp.make('status-nogit'))).diagnostics.length, 0, 'outside git: no such check, no noise');
  });

  it('shows the newest evidence run by manifest time and never follows a symlinked run folder', () => {
    const root = copyDemo(tmp.make('status-evidence'));
    const ev = path.join(root, 'logs/evidence');
    // Named to sort first, but its manifest is the newest: time decides, not the name.
    fs.mkdirSync(path.join(ev, 'aaa_retry'));
    fs.writeFileSync(
      path.join(ev, 'aaa_retry/manifest.json'),
      JSON.stringify({ timestamp: '2099-01-01T00:00:00Z', status: 'FAIL', ticket_id: 'D202', gates: { doctor: 'PASS', fast: 'FAIL' } }),
    );
    const outside = tmp.make('status-evidence-outside');
    fs.writeFileSync(path.join(outside, 'manifest.json'), JSON.stringify({ timestamp: '2100-01-01T00:00:00Z', status: 'PASS' }));
    fs.symlinkSync(outside, path.join(ev, 'zzz_link'));
    const s = statusJson(root);
    assert.equal(s.lastEvidence?.runId, 'aaa_retry');
    assert.equal(s.lastEvidence?.status, 'FAIL');
    assert.equal(s.lastEvidence?.path, 'logs/evidence/aaa_retry');
  });

  it('a usage error exits 2', () => {
    const r = runCli(['status', '--no-such-flag']);
    assert.equal(r.code, 2);
  });
});
