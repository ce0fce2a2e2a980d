import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configSchema } from '../../../src/core/config/schema';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { parseRoadmap } from '../../../src/core/ssot/roadmap';
import { DEFAULT_MAX_DOCUMENT_BYTES, indexDocuments, indexWorkspace } from '../../../src/core/ssot/workspace';

/**
 * SECURITY 18: untrusted Markdown (a 5 MB document, adversarial structures) is parsed or rejected
 * within a time budget, and indexing does not hold the event loop for the whole workspace.
 *
 * The budget is deliberately generous (this machine's 2 cores are shared): it is there to catch
 * super-linear blow-ups — a quadratic regex or table pass takes minutes on these inputs, not
 * seconds. Real figures are in `npm run bench ssot`.
 */
const BUDGET_MS = 15_000;

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

/** A realistic 5 MB roadmap: ticket sections with status lines, checkboxes and AC tables. */
function bigRoadmap(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const s = [
      `### D${i}-1: Ticket ${i} — 한국어 제목 ✅`,
      '',
      `**상태:** ${i % 3 === 0 ? '✅ COMPLETED (2026-01-06)' : 'IN PROGRESS'}`,
      '',
      '- [x] AC-1: first',
      '- [ ] **AC-2:** second',
      '',
      '| AC | Goal | Status | Evidence |',
      '|---|---|---|---|',
      `| AC-3 | goal \\| with pipe | DONE | logs/evidence/run_${i}/ |`,
      '',
      'Some prose with `code`, **bold**, [links](x) and more prose to take up space. '.repeat(4),
      '',
    ].join('\n');
    parts.push(s);
    size += Buffer.byteLength(s) + 1;
  }
  return parts.join('\n');
}

const ADVERSARIAL: Record<string, () => string> = {
  'deep blockquote nesting (100k `>`)': () => '>'.repeat(100_000) + ' x\n',
  'deep list nesting (2k levels)': () => Array.from({ length: 2000 }, (_, i) => ' '.repeat(i) + '- [x] AC-1: x').join('\n'),
  '100k pipes in one line': () => '|'.repeat(100_000) + '\n|---|\n' + '|'.repeat(100_000) + '\n',
  '50k-column table': () =>
    [
      '| AC_ID | STATUS |' + ' c |'.repeat(49_998),
      '|---|---|' + '---|'.repeat(49_998),
      '| A::AC-1 | OPEN |' + ' x |'.repeat(49_998),
    ].join('\n'),
  'unclosed fence over 100k headings': () => '```\n' + '### D1-1: x\n'.repeat(100_000),
  '1e5 headings with status lines': () => Array.from({ length: 100_000 }, (_, i) => `### D${i}-1: t\n**상태:** DONE`).join('\n'),
  '200k table rows': () => '| AC_ID | STATUS |\n|---|---|\n' + '| X::AC-1 | OPEN |\n'.repeat(200_000),
  'a delimiter-like line of 100k dashes and spaces': () => '| a |\n|' + '-'.repeat(100_000) + ' '.repeat(100_000) + 'x\n',
  'a status label followed by 100k spaces': () => '### D1-1: x\n**Status:** a' + ' '.repeat(100_000) + 'x\n',
  '200k unmatched emphasis markers': () => '**'.repeat(200_000) + '\n',
  'U+2028 after 100k spaces (preamble, phase heading, status line)': () =>
    ['key:', '# Phase 1:', '### D1-1: x\n**Status:**'].map((p) => p + ' '.repeat(100_000) + 'x\u2028y').join('\n\n') +
    '\n\n| AC_ID | STATUS |\n|---|---|\n',
};

describe('SEC-18 untrusted Markdown', function () {
  this.timeout(120_000);

  it('SEC-18 a 5 MB roadmap and ledger are parsed within the time budget', () => {
    const text = bigRoadmap(5 * 1024 * 1024);
    assert.ok(Buffer.byteLength(text) >= 5 * 1024 * 1024);
    const r = timed(() => parseRoadmap(text, 'big.md'));
    assert.ok(r.ms < BUDGET_MS, `roadmap parse took ${r.ms.toFixed(0)} ms`);
    assert.ok(r.value.tickets.length > 5000);
    assert.equal(r.value.stats.statusLines, r.value.tickets.length);
    assert.equal(r.value.stats.checkboxes, 2 * r.value.tickets.length);
    assert.equal(r.value.stats.tableAcs, r.value.tickets.length);
    assert.deepEqual(r.value.diagnostics, []);

    const rows = ['| AC_ID | TITLE | STATUS | CANONICAL_EVIDENCE |', '|---|---|---|---|'];
    for (let i = 0; rows.length < 90_000; i++) rows.push(`| D${i}::AC-1 | 제목 ${i} \\| x | ${i % 2 ? 'OPEN' : 'DONE'} | logs/evidence/${i}/ |`);
    const ledgerText = rows.join('\r\n');
    assert.ok(Buffer.byteLength(ledgerText) >= 5 * 1024 * 1024);
    const l = timed(() => parseLedger(ledgerText, 'L.md'));
    assert.ok(l.ms < BUDGET_MS, `ledger parse took ${l.ms.toFixed(0)} ms`);
    assert.equal(l.value.acs.length, rows.length - 2);
  });

  for (const [name, make] of Object.entries(ADVERSARIAL)) {
    it(`SEC-18 adversarial: ${name} is parsed within the time budget without a crash`, () => {
      const text = make();
      const r = timed(() => indexDocuments({ roadmap: { file: 'R.md', text }, ledger: { file: 'L.md', text } }));
      assert.ok(r.ms < BUDGET_MS, `${name}: ${r.ms.toFixed(0)} ms`);
      // Nothing here is a valid row of a real document except what each case says.
      assert.ok(Array.isArray(r.value.tickets) && Array.isArray(r.value.diagnostics));
    });
  }

  it('SEC-18 adversarial inputs yield what they contain and nothing more', () => {
    const fence = indexDocuments({ roadmap: { file: 'R.md', text: ADVERSARIAL['unclosed fence over 100k headings']() } });
    assert.equal(fence.tickets.length, 0); // everything after an unclosed fence is code
    const headings = parseRoadmap(ADVERSARIAL['1e5 headings with status lines'](), 'R.md');
    assert.equal(headings.tickets.length, 100_000);
    assert.equal(headings.stats.statusLines, 100_000);
    const wide = parseLedger(ADVERSARIAL['50k-column table'](), 'L.md');
    assert.deepEqual(wide.acs.map((a) => [a.id, a.status]), [['A::AC-1', 'OPEN']]);
    // 199,999 duplicate ids: the Problems panel gets the first 1000 and one summary line.
    const dup = indexDocuments({ ledger: { file: 'L.md', text: ADVERSARIAL['200k table rows']() } });
    assert.equal(dup.ledger.length, 200_000);
    assert.equal(dup.diagnostics.length, 1001);
    assert.deepEqual(dup.diagnostics.at(-1)?.code, 'ssot.too-many-problems');
    assert.match(dup.diagnostics.at(-1)?.message ?? '', /^198999 more problems in L\.md/);
    const pipes = parseLedger(ADVERSARIAL['100k pipes in one line'](), 'L.md');
    assert.deepEqual(pipes.acs, []);
  });

  it('SEC-18 a document over the size cap is rejected with a clear diagnostic, not parsed', async () => {
    const big = 'x'.repeat(1024) + '\n';
    const text = big.repeat(Math.ceil((DEFAULT_MAX_DOCUMENT_BYTES + 1) / big.length));
    const index = indexDocuments({ roadmap: { file: 'D_ROADMAP.md', text }, ledger: { file: 'L.md', text: '| AC_ID | STATUS |\n|---|---|\n| A::AC-1 | OPEN |\n' } });
    assert.deepEqual(
      index.diagnostics.map((d) => [d.file, d.line, d.severity, d.code]),
      [['D_ROADMAP.md', 1, 'error', 'ssot.too-large']],
    );
    assert.match(index.diagnostics[0]?.message ?? '', /8\.0 MiB.*over the 8\.0 MiB limit|over the 8\.0 MiB limit/);
    assert.equal(index.ledger.length, 1); // the other document is still indexed

    // On disk the size is checked before reading: a 9 MB file is never loaded.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-sec18-'));
    try {
      fs.writeFileSync(path.join(root, 'D_ROADMAP.md'), text);
      const small = await indexWorkspace(root, configSchema.parse({}), { maxBytes: 1024 * 1024, git: false });
      assert.deepEqual(small.diagnostics.map((d) => d.code), ['ssot.too-large']);
      assert.match(small.diagnostics[0]?.message ?? '', /over the 1\.0 MiB limit; not indexed/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('SEC-18 indexWorkspace yields to the event loop between documents', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-sec18-'));
    try {
      const doc = bigRoadmap(512 * 1024);
      const extras = ['a.md', 'b.md', 'c.md', 'd.md'];
      fs.writeFileSync(path.join(root, 'D_ROADMAP.md'), doc);
      for (const e of extras) fs.writeFileSync(path.join(root, e), doc);
      // A ticker scheduled like an extension host's other work: it must get turns while the
      // workspace is indexed, not only after.
      let ticks = 0;
      let done = false;
      const tick = (): void => {
        if (done) return;
        ticks++;
        setImmediate(tick);
      };
      setImmediate(tick);
      const index = await indexWorkspace(root, configSchema.parse({ ssot: { extraRoadmaps: extras } }), { git: false });
      done = true;
      assert.ok(index.tickets.length > 0);
      assert.ok(ticks >= 1 + extras.length, `the event loop ran only ${ticks} times during indexing of ${1 + extras.length} documents`);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
