import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { parseRoadmap } from '../../../src/core/ssot/roadmap';
import { editDocument, setAcStatus, setTicketStatus } from '../../../src/core/ssot/writer';
import { FactoryError } from '../../../src/core/util/errors';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';

/** Lines that differ between two texts, as [1-based line, before, after]. */
function changedLines(before: string, after: string): [number, string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, 'the writer must not add or remove lines');
  const out: [number, string, string][] = [];
  a.forEach((line, i) => {
    if (line !== b[i]) out.push([i + 1, line, b[i]]);
  });
  return out;
}

describe('SSOT writer', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-writer-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('on copies of the corpus', function () {
    before(function () {
      requireCorpus(this);
    });

    it('setAcStatus changes only the status, evidence and commit cells of one ledger row', async () => {
      const file = path.join(tmp, 'AC_LEDGER.md');
      fs.copyFileSync(path.join(CORPUS_DIR, 'docs/v2/design/AC_LEDGER.md'), file);
      const before = fs.readFileSync(file, 'utf8');
      const written = await editDocument(file, (t) =>
        setAcStatus(t, 'D_ALPHA-1U-FIX-2-1::AC-5', { status: 'DONE', evidence: 'logs/evidence/run_42/', commit: 'deadbee' }),
      );
      assert.equal(written, true);
      const after = fs.readFileSync(file, 'utf8');
      assert.deepEqual(changedLines(before, after), [
        [
          29,
          '| D_ALPHA-1U-FIX-2-1::AC-5 | Evidence Minimum Set + FACT_CHECK | D_ALPHA | OPEN | NONE | UNKNOWN | — | — |',
          '| D_ALPHA-1U-FIX-2-1::AC-5 | Evidence Minimum Set + FACT_CHECK | D_ALPHA | DONE | logs/evidence/run_42/ | deadbee | — | — |',
        ],
      ]);
      // Every other byte is identical: same length difference as the three cell edits.
      assert.equal(Buffer.byteLength(after) - Buffer.byteLength(before), 'DONE'.length - 'OPEN'.length + 'logs/evidence/run_42/'.length - 'NONE'.length + 'deadbee'.length - 'UNKNOWN'.length);
      const reparsed = parseLedger(after, 'L');
      assert.equal(reparsed.acs.length, 191);
      assert.equal(reparsed.acs.find((a) => a.id === 'D_ALPHA-1U-FIX-2-1::AC-5')?.status, 'DONE');
    });

    it('setTicketStatus rewrites one D_ROADMAP step row (status and DONE/TOTAL)', () => {
      const before = fs.readFileSync(path.join(CORPUS_DIR, 'D_ROADMAP.md'), 'utf8');
      const after = setTicketStatus(before, 'D_ALPHA-1U-FIX-2-1', { status: 'DONE', done: 5 });
      assert.deepEqual(changedLines(before, after), [
        [85, '| D_ALPHA-1U-FIX-2-1 | Winrate 현실화 | 4/5 | PARTIAL |', '| D_ALPHA-1U-FIX-2-1 | Winrate 현실화 | 5/5 | DONE |'],
      ]);
      const blocked = setTicketStatus(before, 'D216', { status: 'BLOCKED', reason: 'needs infra budget' });
      assert.deepEqual(changedLines(before, blocked), [
        [154, '| D216 | Deployment & Release Pipeline | OPEN |', '| D216 | Deployment & Release Pipeline | BLOCKED (needs infra budget) |'],
      ]);
      const t = parseRoadmap(blocked, 'R').tickets.find((x) => x.id === 'D216');
      assert.deepEqual([t?.status, t?.blockedReason], ['BLOCKED', 'needs infra budget']);
    });

    it('setTicketStatus edits the first status line of a legacy heading section only', () => {
      const before = fs.readFileSync(path.join(CORPUS_DIR, 'docs/archive/ROADMAP_LEGACY_FULL_20260220.md'), 'utf8');
      const after = setTicketStatus(before, 'D82-10', { status: 'DONE' });
      assert.deepEqual(changedLines(before, after), [[164, '**상태:** PARTIAL', '**상태:** DONE']]);
    });

    it('setAcStatus edits a ROADMAP_V2 per-ticket AC table row', () => {
      const before = fs.readFileSync(path.join(CORPUS_DIR, 'docs/v2/ROADMAP_V2.md'), 'utf8');
      const after = setAcStatus(before, 'D_ALPHA-0::AC-2', { status: 'DONE', evidence: 'logs/evidence/d205_18_2d_smoke_20260221_0606' });
      assert.deepEqual(changedLines(before, after), [
        [
          27,
          '| AC-2 | survey 실행 중 unique symbols >= 80 (20분 기준) 증명 | OPEN | NONE |',
          '| AC-2 | survey 실행 중 unique symbols >= 80 (20분 기준) 증명 | DONE | logs/evidence/d205_18_2d_smoke_20260221_0606 |',
        ],
      ]);
    });
  });

  it('keeps CRLF line endings and the BOM byte-identical', async () => {
    const lf = ['x: y', '| AC_ID | TITLE | STATUS | EVIDENCE |', '|---|---|---|---|', '| A::AC-1 | one | OPEN | NONE |', '| A::AC-2 | two | OPEN | NONE |', ''].join('\n');
    const crlf = '\uFEFF' + lf.replace(/\n/g, '\r\n');
    const file = path.join(tmp, 'L.md');
    fs.writeFileSync(file, crlf);
    await editDocument(file, (t) => setAcStatus(t, 'A::AC-2', { status: 'DONE', evidence: 'ev/a|b' }));
    const bytes = fs.readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const want = crlf.replace('| A::AC-2 | two | OPEN | NONE |', '| A::AC-2 | two | DONE | ev/a\\|b |');
    assert.equal(bytes.toString('utf8'), want);
    // The escaped pipe reads back as one cell.
    assert.equal(parseLedger(bytes.toString('utf8'), 'L').acs[1]?.evidence, 'ev/a|b');
  });

  it('SEC-30 editDocument refuses an edit that deletes an AC row and leaves the file untouched', async () => {
    const text = ['| AC_ID | TITLE | STATUS |', '|---|---|---|', '| A::AC-1 | one | OPEN |', '| A::AC-2 | two | OPEN |', ''].join('\n');
    const file = path.join(tmp, 'L.md');
    fs.writeFileSync(file, text);
    await assert.rejects(
      editDocument(file, (t) => t.replace('| A::AC-2 | two | OPEN |\n', '')),
      (err: unknown) => err instanceof FactoryError && err.code === 'ssot.ac-deleted' && err.message.includes('A::AC-2'),
    );
    assert.equal(fs.readFileSync(file, 'utf8'), text);
    // No change → no write.
    const mtime = fs.statSync(file).mtimeMs;
    assert.equal(await editDocument(file, (t) => t), false);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
  });

  it('refuses unknown ids, line breaks in values and non-UTF-8 files', async () => {
    const text = ['| AC_ID | TITLE | STATUS |', '|---|---|---|', '| A::AC-1 | one | OPEN |'].join('\n');
    assert.throws(() => setAcStatus(text, 'A::AC-9', { status: 'DONE' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.ac-not-found');
    assert.throws(() => setAcStatus(text, 'A::AC-1', { status: 'DONE\n| X::AC-1 | injected | OPEN |' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.bad-value');
    assert.throws(() => setTicketStatus(text, 'NOPE', { status: 'DONE' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.ticket-not-found');
    assert.throws(() => setAcStatus(text, 'A::AC-1', { status: 'DNOE' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.bad-value');
    assert.throws(() => setTicketStatus('| Step | Status |\n|---|---|\n| T1 | OPEN |\n', 'T1', { status: 'SOMEDAY' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.bad-value');
    // A table inside a quote is read, but not edited (its raw lines carry the `> ` marker).
    const quoted = ['> | AC_ID | STATUS |', '> |---|---|', '> | Q::AC-1 | OPEN |'].join('\n');
    assert.throws(() => setAcStatus(quoted, 'Q::AC-1', { status: 'DONE' }), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.not-a-row');
    const file = path.join(tmp, 'latin1.md');
    fs.writeFileSync(file, Buffer.from([0x7c, 0x20, 0xe9, 0x20, 0x7c, 0x0a]));
    await assert.rejects(editDocument(file, (t) => t + 'x'), (e: unknown) => e instanceof FactoryError && e.code === 'ssot.not-utf8');
  });
});
