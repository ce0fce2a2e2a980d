import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { blockTokens, scanDocument } from '../../../src/core/ssot/markdown';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';

/** Stock markdown-it with the same options and rules as the scanner, stock Token class. */
function stockTokens(text: string): Token[] {
  const md = new MarkdownIt('default', { html: true, linkify: false, typographer: false });
  md.block.ruler.disable('table');
  const out: Token[] = [];
  md.block.parse(text, md, {}, out);
  return out;
}

function shape(tokens: Token[]) {
  return tokens.map((t) => [t.type, t.tag, t.nesting, t.level, t.map, t.content, t.markup, t.info, t.attrs, t.block, t.hidden, t.meta, t.children]);
}

const SAMPLES = [
  '# h1\n\ntext **b** [l](u)\n\n> quote\n> - [x] item\n\n1. one\n2. two\n\n```js\ncode\n```\n\n    indented\n\n---\n\n<div>\nhtml\n</div>\n',
  'Setext\n===\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[ref]: /url "t"\n',
  '>'.repeat(500) + ' deep\n',
  '```\nunclosed fence\n# not a heading\n',
];

describe('SSOT markdown scan', () => {
  it('the lean block tokenizer yields exactly the token stream of stock markdown-it', function () {
    // The comparison only means something if the two really differ in how tokens are made.
    assert.notEqual(Object.getPrototypeOf(blockTokens('x')[0]), Object.getPrototypeOf(stockTokens('x')[0]));
    for (const s of SAMPLES) assert.deepEqual(shape(blockTokens(s)), shape(stockTokens(s)));
    if (fs.existsSync(CORPUS_DIR)) {
      for (const rel of ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/ROADMAP_V2.md', 'docs/archive/ROADMAP_LEGACY_FULL_20260220.md']) {
        const text = fs.readFileSync(path.join(CORPUS_DIR, rel), 'utf8');
        assert.deepEqual(shape(blockTokens(text)), shape(stockTokens(text)), rel);
      }
    }
    // Tokens keep markdown-it's Token methods.
    const t = blockTokens('1. x\n')[0];
    t?.attrSet('start', '3');
    assert.equal(t?.attrGet('start'), '3');
  });

  it('finds tables the way GFM does: header + delimiter row, same cell count, even mid-paragraph', () => {
    const text = [
      'intro line',
      '| a | b |',
      '|:--|--:|',
      '| 1 | 2 |',
      '',
      '| not | a table |',
      '|---|',
      '',
      '> | q | r |',
      '> |---|---|',
      '> | 3 | 4 |',
      '',
      '| x |',
      '| --- |',
      '# heading ends it',
    ].join('\n');
    const { blocks } = scanDocument(text);
    assert.deepEqual(
      blocks.map((b) => (b.kind === 'table' ? ['table', b.line, b.endLine, b.rows] : [b.kind, b.line])),
      [
        ['text', 0],
        ['table', 1, 4, ['| a | b |', '|:--|--:|', '| 1 | 2 |']],
        ['text', 5],
        ['table', 8, 11, ['| q | r |', '|---|---|', '| 3 | 4 |']],
        ['table', 12, 14, ['| x |', '| --- |']],
        ['heading', 14],
      ],
    );
  });

  describe('on the corpus', function () {
    before(function () {
      requireCorpus(this);
    });
    it('every table markdown-it (with its table rule) sees, the scanner sees at the same lines', () => {
      const md = new MarkdownIt('default', { html: true });
      for (const rel of ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/ROADMAP_V2.md', 'docs/archive/ROADMAP_LEGACY_FULL_20260220.md']) {
        const text = fs.readFileSync(path.join(CORPUS_DIR, rel), 'utf8');
        const stock: Token[] = [];
        md.block.parse(text, md, {}, stock);
        const want = stock.filter((t) => t.type === 'table_open').map((t) => t.map);
        const got = scanDocument(text)
          .blocks.filter((b) => b.kind === 'table')
          .map((b) => (b.kind === 'table' ? [b.line, b.endLine] : null));
        assert.deepEqual(got, want, rel);
        assert.ok(want.length > 0);
      }
    });
  });
});
