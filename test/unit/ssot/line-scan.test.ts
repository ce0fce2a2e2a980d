import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scanLines } from '../../../src/core/ssot/line-scan';
import { scanDocument } from '../../../src/core/ssot/markdown';
import { generate } from '../../../bench/ssot.bench';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';

const REPO = path.resolve(__dirname, '..', '..', '..');

function mdFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...mdFiles(p));
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Both scanners on one text: the blocks must be identical. True when the line scanner took it. */
function same(text: string, what: string): boolean {
  const byLines = scanDocument(text).blocks;
  const byMarkdownIt = scanDocument(text, { lineScan: false }).blocks;
  assert.deepEqual(byLines, byMarkdownIt, `${what}: ${JSON.stringify(text.slice(0, 300))}`);
  return scanLines(text.replace(/\r\n?/g, '\n')) !== undefined;
}

/** Lines a random document is made of: everything the line scanner models and much it refuses. */
const PIECES = [
  '', '', '', 'text', 'more text  ', '  indented text', '    code', '\tcode', ' \t ', '\u3000', '\u3000x',
  '# h1', '## h2 ##', '###### h6 #', '####### seven', '#tag', '#', '# # #', '  ### h3 ', '#\tx',
  '| a | b |', '|---|---|', '| 1 | 2 |', '|:-|-:|', 'a | b', '--- | ---', '| x \\| y | z |', '|', '   | c |',
  '- item', '- [ ] box', '- [x] done', '* star', '+ plus', '1. one', '2. two', '1) paren', '10. ten', '-', '- ', '-    far', '-     code',
  '  - nested', '- - x', '1234567890. big', '2024. year',
  '> quote', '> - [x] q', '>', '>  deep', '> | q | r |', '> |---|---|', '  > in', '>> nested', '> # h',
  '```', '```js', '~~~', '````', '``` a`b', '   ```', '    ```', 'foo ``` bar',
  '---', '***', '___', '- - -', '===', '==', '-- -', '* * *',
  '<div>', '</div>', '<!-- c -->', '[ref]: /url', '[link](u)', '[x]', '**Status**: DONE', '상태: OPEN',
];

/** Deterministic pseudo-random generator (a test that fails must fail the same way again). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SSOT line scanner (same blocks as markdown-it, or none)', () => {
  it('agrees with markdown-it on every repository fixture and on the bench\'s generated documents', () => {
    let taken = 0;
    const files = [...mdFiles(path.join(REPO, 'test', 'fixtures')), ...mdFiles(path.join(REPO, 'examples'))];
    for (const f of files) if (same(fs.readFileSync(f, 'utf8'), f)) taken++;
    assert.ok(files.length > 0 && taken > 0, `${taken} of ${files.length} fixtures line-scanned`);
    const docs = generate(300, 5);
    assert.ok(same(docs.ledger!.text, 'generated ledger'), 'the generated ledger is line-scanned');
    assert.ok(same(docs.roadmap!.text, 'generated roadmap'), 'the generated roadmap is line-scanned');
  });

  it('agrees with markdown-it on 4,000 random documents built from the constructs around its limits', () => {
    const next = rng(18);
    let taken = 0;
    for (let d = 0; d < 4000; d++) {
      const n = 1 + Math.floor(next() * 12);
      const lines: string[] = [];
      for (let k = 0; k < n; k++) lines.push(PIECES[Math.floor(next() * PIECES.length)]);
      if (same(lines.join(next() < 0.5 ? '\n' : '\r\n') + (next() < 0.5 ? '\n' : ''), `random document ${d}`)) taken++;
    }
    // Both outcomes must occur, or the comparison proves nothing about one of them.
    assert.ok(taken > 400 && taken < 3600, `${taken} of 4000 line-scanned`);
  });

  it('handles the scanned constructs exactly: headings, tables, items, quotes, fences, breaks', () => {
    const text = ['# T #', '', '- [x] a', '- b', '', '1. one', '', '> **Status**: DONE', '> more', '', '```', '| no | table |', '|---|---|', '```', '***', 'p', '| a |', '| - |', '| 1 |'].join('\n');
    assert.ok(same(text, 'mixed'));
    assert.deepEqual(
      scanDocument(text).blocks.map((b) => [b.kind, b.line]),
      [['heading', 0], ['text', 2], ['text', 3], ['text', 5], ['text', 7], ['text', 15], ['table', 16]],
    );
  });

  describe('on the corpus', function () {
    before(function () {
      requireCorpus(this);
    });
    it('agrees with markdown-it on every corpus document; the ledger and D_ROADMAP are line-scanned', () => {
      const scanned: string[] = [];
      for (const f of mdFiles(CORPUS_DIR)) if (same(fs.readFileSync(f, 'utf8'), f)) scanned.push(path.relative(CORPUS_DIR, f));
      for (const rel of ['docs/v2/design/AC_LEDGER.md', 'D_ROADMAP.md']) assert.ok(scanned.includes(rel), `${rel} line-scanned (scanned: ${scanned.join(', ')})`);
    });
  });
});
