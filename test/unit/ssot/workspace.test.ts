import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configSchema } from '../../../src/core/config/schema';
import { computeStatus } from '../../../src/core/ssot/status';
import { indexDocuments, indexWorkspace } from '../../../src/core/ssot/workspace';
import { FactoryError } from '../../../src/core/util/errors';

const MINI = path.resolve(__dirname, '../../fixtures/ssot/mini');
const withV2 = configSchema.parse({ ssot: { extraRoadmaps: ['docs/v2/ROADMAP_V2.md', 'docs/missing-is-fine.md'] } });

describe('SSOT workspace index', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-ws-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('merges roadmap phases, extra roadmap ACs and the ledger', async () => {
    const index = await indexWorkspace(MINI, withV2);
    assert.deepEqual(
      index.phases.map((p) => [p.title, p.ticketIds]),
      [
        ['Phase 1: Alpha', ['D101', 'D102', 'D103']],
        ['Phase 2: Later', ['D201']],
      ],
    );
    assert.deepEqual(
      index.tickets.map((t) => [t.id, t.status, t.done, t.total, t.acs.length, t.source.file]),
      [
        ['D101', 'PARTIAL', 1, 2, 2, 'D_ROADMAP.md'],
        ['D102', 'OPEN', 0, 1, 0, 'D_ROADMAP.md'],
        ['D201', 'BLOCKED', undefined, undefined, 0, 'D_ROADMAP.md'],
        ['D103', 'OPEN', undefined, undefined, 1, 'docs/v2/ROADMAP_V2.md'],
      ],
    );
    assert.equal(index.tickets[2]?.blockedReason, 'waiting for exchange keys');
    assert.equal(index.tickets[0]?.acs[0]?.source.file, 'docs/v2/ROADMAP_V2.md');
    assert.deepEqual(
      index.ledger.map((a) => a.id),
      ['D101::AC-1', 'D101::AC-2', 'D102::AC-1', 'D201::AC-1'],
    );
    assert.deepEqual(index.diagnostics, []);
  });

  it('indexDocuments gives the same index from in-memory texts (unsaved buffers)', async () => {
    const read = (f: string) => ({ file: f, text: fs.readFileSync(path.join(MINI, f), 'utf8') });
    const fromDisk = await indexWorkspace(MINI, withV2);
    const fromMemory = indexDocuments({
      roadmap: read('D_ROADMAP.md'),
      ledger: read('docs/v2/design/AC_LEDGER.md'),
      extraRoadmaps: [read('docs/v2/ROADMAP_V2.md')],
    });
    assert.deepEqual(fromMemory, fromDisk);
    // An edited buffer is what gets indexed, not the file.
    const edited = read('docs/v2/design/AC_LEDGER.md');
    edited.text = edited.text.replace('| D101::AC-2 | second | D101 | OPEN |', '| D101::AC-2 | second | D101 | DONE |');
    const again = indexDocuments({ roadmap: read('D_ROADMAP.md'), ledger: edited });
    assert.equal(again.ledger[1]?.status, 'DONE');
  });

  it('reads a document listed twice only once, and reports one progress step per document', async () => {
    const twice = configSchema.parse({ ssot: { extraRoadmaps: ['docs/v2/ROADMAP_V2.md', 'docs/v2/ROADMAP_V2.md', 'D_ROADMAP.md'] } });
    const steps: string[] = [];
    const index = await indexWorkspace(MINI, twice, { progress: (p) => steps.push(`${p.step}/${p.maxStep} ${p.message}`) });
    assert.deepEqual(index, await indexWorkspace(MINI, withV2));
    assert.deepEqual(steps, [
      '1/4 parsing D_ROADMAP.md',
      '2/4 parsing docs/v2/design/AC_LEDGER.md',
      '3/4 parsing docs/v2/ROADMAP_V2.md',
      '4/4 checking SSOT invariants',
    ]);
  });

  it('throws ssot.missing (exit 2) when neither the roadmap nor the ledger exists', async () => {
    await assert.rejects(indexWorkspace(tmp, configSchema.parse({})), (err: unknown) => {
      assert.ok(err instanceof FactoryError);
      assert.equal(err.code, 'ssot.missing');
      assert.equal(err.exitCode, 2);
      assert.ok(!err.message.includes('\n'));
      assert.match(err.message, /D_ROADMAP\.md/);
      return true;
    });
  });

  it('works with only one of the two documents', async () => {
    fs.copyFileSync(path.join(MINI, 'D_ROADMAP.md'), path.join(tmp, 'D_ROADMAP.md'));
    const index = await indexWorkspace(tmp, configSchema.parse({}));
    assert.equal(index.tickets.length, 3);
    assert.deepEqual(index.ledger, []);
    // No ledger: no DONE/TOTAL comparison, and the queue falls back to roadmap ACs (none here).
    assert.deepEqual(index.diagnostics, []);
    assert.equal(computeStatus(index).queueSource, 'roadmap');
  });

  it('refuses SSOT paths outside the workspace', async () => {
    for (const bad of ['../D_ROADMAP.md', '/etc/passwd', 'docs/../../x.md']) {
      const config = configSchema.parse({ ssot: { roadmap: bad } });
      await assert.rejects(indexWorkspace(tmp, config), (err: unknown) => err instanceof FactoryError && err.code === 'ssot.bad-path');
    }
  });

  it('reads a symlink that stays inside the workspace, refuses one that leaves it, never blocks on a FIFO', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'secret.md'), '| Step | Status |\n|---|---|\n| SECRET-1 | OPEN |\n');
      fs.mkdirSync(path.join(tmp, 'docs'));
      fs.copyFileSync(path.join(MINI, 'D_ROADMAP.md'), path.join(tmp, 'docs', 'real.md'));
      fs.symlinkSync('docs/real.md', path.join(tmp, 'D_ROADMAP.md'));
      fs.symlinkSync(path.join(outside, 'secret.md'), path.join(tmp, 'extra.md'));
      execFileSync('mkfifo', [path.join(tmp, 'fifo.md')]);
      const config = configSchema.parse({ ssot: { extraRoadmaps: ['extra.md', 'fifo.md'] } });
      const index = await indexWorkspace(tmp, config, { git: false });
      assert.deepEqual(
        index.tickets.map((t) => t.id),
        ['D101', 'D102', 'D201'],
      );
      assert.deepEqual(
        index.diagnostics.map((d) => [d.file, d.code]),
        [
          ['extra.md', 'ssot.outside-workspace'],
          ['fifo.md', 'ssot.not-a-file'],
        ],
      );
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('user cancelled'));
    await assert.rejects(indexWorkspace(MINI, withV2, { signal: ac.signal }), /cancelled|abort/i);
  });
});

describe('SSOT status', () => {
  it('counts ACs and tickets by status and points at the AC a cycle takes next (a BLOCKED ticket\'s ACs are not queued)', async () => {
    const report = computeStatus(await indexWorkspace(MINI, withV2));
    assert.deepEqual(report.acs, {
      total: 4,
      done: 1,
      byStatus: { OPEN: 3, IN_PROGRESS: 0, PARTIAL: 0, DONE: 1, BLOCKED: 0, LOST_EVIDENCE: 0, UNKNOWN: 0 },
    });
    assert.deepEqual(report.tickets.byStatus, { OPEN: 2, IN_PROGRESS: 0, PARTIAL: 1, DONE: 0, BLOCKED: 1, LOST_EVIDENCE: 0, UNKNOWN: 0 });
    assert.deepEqual(report.next, { acId: 'D101::AC-2', ticketId: 'D101', title: 'second' });
    assert.deepEqual(
      report.upcoming.map((u) => u.acId),
      // D201 is BLOCKED in the roadmap: the Controller skips it, so status does not list it either.
      ['D102::AC-1'],
    );
    assert.equal(report.queueSource, 'ledger');
    assert.deepEqual(report.problems, { errors: 0, warnings: 0, infos: 0 });
  });

  it('next is null when nothing is open; started work (IN PROGRESS) comes first (spec §8-3); upcoming holds at most three', () => {
    const rows = (statuses: string[]) =>
      ['| AC_ID | TITLE | STATUS |', '|---|---|---|', ...statuses.map((s, i) => `| T::AC-${i + 1} | t${i + 1} | ${s} |`)].join('\n');
    const none = computeStatus(indexDocuments({ ledger: { file: 'L.md', text: rows(['DONE', 'BLOCKED']) } }));
    assert.equal(none.next, null);
    assert.deepEqual(none.upcoming, []);
    const many = computeStatus(indexDocuments({ ledger: { file: 'L.md', text: rows(['DONE', 'OPEN', 'IN PROGRESS', 'OPEN', 'OPEN', 'OPEN', 'OPEN']) } }));
    assert.equal(many.next?.acId, 'T::AC-3');
    assert.deepEqual(many.upcoming.map((u) => u.acId), ['T::AC-2', 'T::AC-4', 'T::AC-5']);
  });
});
