import { strict as assert } from 'node:assert';
import { parseLedger } from '../../../src/core/ssot/ledger';
import { splitCells, splitRow } from '../../../src/core/ssot/markdown';
import { parseRoadmap } from '../../../src/core/ssot/roadmap';
import { normalizeStatus } from '../../../src/core/ssot/status-words';

const LEDGER = [
  'generated_at: 2026-02-20T09:00:00Z',
  'queue_policy: SEQUENTIAL_QUEUE — 첫 번째 OPEN',
  '| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT | DUP_GROUP_KEY | NOTES |',
  '|---|---|---|---|---|---|---|---|',
  '| T1::AC-1 | 한국어 제목 ✅ | T1 | DONE | logs/evidence/t1/ | abc1234 | — | — |',
  '| T1::AC-2 | a \\| b | T1 | OPEN | NONE | UNKNOWN | — | pipe \\| in notes |',
  '| T2::AC-1 | third | T2 | 진행중 | NONE | UNKNOWN | — | — |',
  '',
].join('\n');

function summary(text: string) {
  const l = parseLedger(text, 'L.md');
  return {
    meta: l.meta,
    acs: l.acs.map((a) => [a.id, a.title, a.status, a.rawStatus, a.evidence, a.commit, a.notes, a.source.line]),
    diagnostics: l.diagnostics.map((d) => [d.line, d.code]),
  };
}

describe('SSOT parsers', () => {
  describe('AC ledger', () => {
    it('reads the preamble and rows, with 1-based lines, Korean and emoji', () => {
      const s = summary(LEDGER);
      assert.deepEqual(s.meta, { generated_at: '2026-02-20T09:00:00Z', queue_policy: 'SEQUENTIAL_QUEUE — 첫 번째 OPEN' });
      assert.deepEqual(s.acs, [
        ['T1::AC-1', '한국어 제목 ✅', 'DONE', 'DONE', 'logs/evidence/t1/', 'abc1234', '—', 5],
        ['T1::AC-2', 'a | b', 'OPEN', 'OPEN', 'NONE', 'UNKNOWN', 'pipe | in notes', 6],
        ['T2::AC-1', 'third', 'IN_PROGRESS', '진행중', 'NONE', 'UNKNOWN', '—', 7],
      ]);
      assert.deepEqual(s.diagnostics, []);
    });

    it('gives the same rows and line numbers with CRLF line endings and a BOM', () => {
      const lf = summary(LEDGER);
      assert.deepEqual(summary(LEDGER.replace(/\n/g, '\r\n')), lf);
      assert.deepEqual(summary('\uFEFF' + LEDGER.replace(/\n/g, '\r\n')), lf);
      assert.deepEqual(summary('\uFEFF' + LEDGER), lf);
    });

    it('tolerates old-Mac CR line endings and NUL bytes (same rows, same lines)', () => {
      const lf = summary(LEDGER);
      assert.deepEqual(summary(LEDGER.replace(/\n/g, '\r')), lf);
      const nul = parseLedger(LEDGER.replace('third', 'th\0ird'), 'L.md');
      assert.deepEqual([nul.acs[2]?.title, nul.acs[2]?.source.line], ['th\uFFFDird', 7]);
    });

    it('maps columns by header name: aliases, any order, any case, Korean headers', () => {
      const text = [
        '| 상태 | 목표 | ac | 증거 | Commit |',
        '| :-- | --- | --- | --- | --: |',
        '| PASS | goal one | X1::AC-1 | ev/one | 1234567 |',
        '| todo | goal two | X1::AC-2 | — | — |',
      ].join('\n');
      const l = parseLedger(text, 'L.md');
      assert.deepEqual(
        l.acs.map((a) => [a.id, a.title, a.status, a.evidence, a.commit]),
        [
          ['X1::AC-1', 'goal one', 'DONE', 'ev/one', '1234567'],
          ['X1::AC-2', 'goal two', 'OPEN', '—', '—'],
        ],
      );
      const mixed = parseLedger(['| Status | **AC_ID** | Title |', '|-|-|-|', '| Completed | Y::AC-9 | t |'].join('\n'), 'L.md');
      assert.deepEqual(mixed.acs.map((a) => [a.id, a.status]), [['Y::AC-9', 'DONE']]);
    });

    it('reports unreadable rows with their line and keeps reading the rest', () => {
      const text = [
        'key: v',
        '| AC_ID | TITLE | STATUS |',
        '|---|---|---|',
        '| A::AC-1 | ok | OPEN |',
        '| A::AC-2 | too | many | cells |',
        '| A::AC-3 | short |',
        '|  | no id | OPEN |',
        '| A-AC-5 | no separator | OPEN |',
        '| A::AC-6 | odd | MAYBE-LATER |',
        '| A::AC-7 | ok | DONE |',
      ].join('\n');
      const s = summary(text);
      assert.deepEqual(
        s.acs.map((a) => [a[0], a[2]]),
        [
          ['A::AC-1', 'OPEN'],
          ['A::AC-6', 'UNKNOWN'],
          ['A::AC-7', 'DONE'],
        ],
      );
      assert.deepEqual(s.diagnostics, [
        [5, 'ssot.row-cells'],
        [6, 'ssot.row-cells'],
        [7, 'ssot.missing-id'],
        [8, 'ssot.bad-ac-id'],
        [9, 'ssot.unknown-status'],
      ]);
    });

    it('ignores tables without an id and a status column', () => {
      const l = parseLedger('| a | b |\n|---|---|\n| 1 | 2 |\n', 'L.md');
      assert.deepEqual([l.acs, l.diagnostics], [[], []]);
    });
  });

  describe('table rows', () => {
    it('splits on unescaped pipes and reports exact cell spans', () => {
      const line = '| a \\| b |  c  | `x` |';
      const cells = splitRow(line);
      assert.deepEqual(cells.map((c) => c.value), ['a | b', 'c', '`x`']);
      assert.deepEqual(cells.map((c) => line.slice(c.start, c.end)), ['a \\| b', 'c', '`x`']);
      assert.deepEqual(splitRow('a | b').map((c) => c.value), ['a', 'b']);
      assert.deepEqual(splitRow('| a |  |').map((c) => c.value), ['a', '']);
      // The parsers' allocation-light splitter agrees with the writer's.
      for (const l of [line, 'a | b', '| a |  |', '|', '', '  | x \\| | y ', '|||', '\\|a|b\\|']) {
        assert.deepEqual(splitCells(l), splitRow(l).map((c) => c.value), l);
      }
    });
  });

  describe('status words', () => {
    const cases: [string, string][] = [
      ['DONE', 'DONE'],
      ['PASS', 'DONE'],
      ['COMPLETE', 'DONE'],
      ['COMPLETED (2026-01-06)', 'DONE'],
      ['ACCEPTED', 'DONE'],
      ['✅', 'DONE'],
      ['✅ **COMPLETE**', 'DONE'],
      ['DONE ✅', 'DONE'],
      ['IN PROGRESS', 'IN_PROGRESS'],
      ['in_progress', 'IN_PROGRESS'],
      ['진행중', 'IN_PROGRESS'],
      ['🚧 **IN PROGRESS**', 'IN_PROGRESS'],
      ['PARTIAL', 'PARTIAL'],
      ['⚠️ **CONDITIONAL PASS** (효과 미미)', 'PARTIAL'],
      ['PLANNED (D207-4 완료 후)', 'OPEN'],
      ['TODO', 'OPEN'],
      ['OPEN', 'OPEN'],
      ['❌ **NO-GO**', 'OPEN'],
      ['NO-GO', 'OPEN'],
      ['BLOCKED (keys)', 'BLOCKED'],
      ['LOST_EVIDENCE', 'LOST_EVIDENCE'],
      ['UNKNOWN', 'UNKNOWN'],
      ['DESIGN COMPLETE', 'DONE'],
      ['Implementation', 'IN_PROGRESS'],
    ];
    for (const [raw, want] of cases) {
      it(`"${raw}" → ${want}`, () => {
        const n = normalizeStatus(raw);
        assert.equal(n.status, want);
        assert.equal(n.known, true);
      });
    }
    it('an unrecognised word is UNKNOWN and flagged; GO inside GOAL does not count', () => {
      assert.deepEqual(normalizeStatus('MAYBE-LATER'), { status: 'UNKNOWN', known: false });
      assert.deepEqual(normalizeStatus('GOAL'), { status: 'UNKNOWN', known: false });
      assert.deepEqual(normalizeStatus(''), { status: 'UNKNOWN', known: false });
    });
  });

  describe('roadmaps', () => {
    it('reads phase step tables with and without DONE/TOTAL, and only those tables', () => {
      const text = [
        '### Phase 1: Alpha',
        '',
        '| Step | Goal | DONE/TOTAL | Status |',
        '|---|---|---|---|',
        '| D1-1 | one | 2/3 | PARTIAL |',
        '| D1-2 | two | x/y | OPEN |',
        '',
        '### Phase META: Gov',
        '',
        '| Step | Goal | Status |',
        '|---|---|---|',
        '| D000-3 | meta | OPEN |',
        '| not an id | bad | OPEN |',
        '',
        '## Elsewhere',
        '',
        '| 범위 | 의미 | 상태 |',
        '|---|---|---|',
        '| D82~D106 | legacy | ARCHIVED |',
      ].join('\n');
      const r = parseRoadmap(text, 'R.md');
      assert.deepEqual(
        r.phases.map((p) => [p.title, p.ticketIds, p.source.line]),
        [
          ['Phase 1: Alpha', ['D1-1', 'D1-2'], 1],
          ['Phase META: Gov', ['D000-3'], 8],
        ],
      );
      assert.deepEqual(
        r.tickets.map((t) => [t.id, t.title, t.status, t.done, t.total, t.source.line]),
        [
          ['D1-1', 'one', 'PARTIAL', 2, 3, 5],
          ['D1-2', 'two', 'OPEN', undefined, undefined, 6],
          ['D000-3', 'meta', 'OPEN', undefined, undefined, 12],
        ],
      );
      assert.deepEqual(
        r.diagnostics.map((d) => [d.line, d.code]),
        [
          [6, 'ssot.bad-progress'],
          [13, 'ssot.bad-ticket-id'],
        ],
      );
    });

    it('reads per-ticket AC tables under ticket headings', () => {
      const text = [
        '## Phase 1: A',
        '### D_ALPHA-0: Universe Truth (TopN)',
        '| AC | Goal | Status | Evidence |',
        '|---|---|---|---|',
        '| AC-1 | g1 | DONE | ev/1 |',
        '| AC-2 | g2 | OPEN | NONE |',
        '### D_ALPHA-1: Next',
        '| AC | Goal | Status | Evidence |',
        '|---|---|---|---|',
        '| AC-1 | g3 | 완료 | ev/3 |',
      ].join('\r\n');
      const r = parseRoadmap(text, 'V2.md');
      assert.deepEqual(
        r.tickets.map((t) => [t.id, t.title, t.status, t.phase, t.acs.map((a) => `${a.id}:${a.status}:${a.evidence}@${a.source.line}`)]),
        [
          ['D_ALPHA-0', 'Universe Truth (TopN)', 'PARTIAL', 'Phase 1: A', ['D_ALPHA-0::AC-1:DONE:ev/1@5', 'D_ALPHA-0::AC-2:OPEN:NONE@6']],
          ['D_ALPHA-1', 'Next', 'DONE', 'Phase 1: A', ['D_ALPHA-1::AC-1:DONE:ev/3@10']],
        ],
      );
    });

    it('reads legacy heading sections: status lines, checkboxes, and ignores fenced code', () => {
      const text = [
        '## D82',
        '',
        '### D82-10: D82-10: Recalibrated',
        '',
        '**상태:** PARTIAL',
        '**문서:** `docs/x.md`',
        '',
        '> **Status:** ✅ COMPLETE   **Date:** 2025-12-05',
        '',
        '#### 신 D206-0: Gate Integrity Restore',
        '**상태:** ✅ COMPLETED (2026-01-06)',
        '- [x] AC-1: first done',
        '- [ ] **AC-2:** second open',
        '  - [x] nested sub-check',
        '',
        '```',
        '# D999-1: not a heading',
        '- [x] not a checkbox',
        '```',
        '### D213~D215: a range is not a ticket',
        '- [ ] still inside the enclosing ## D82 section',
        '### D99-7 (P6): PaperExchange ✅ PARTIAL',
        '- **Status**: 🚧 IN PROGRESS (2025-12-19)',
      ].join('\n');
      const r = parseRoadmap(text, 'LEGACY.md');
      assert.deepEqual(
        r.tickets.map((t) => [t.id, t.status, t.rawStatus, t.source.line, t.acs.map((a) => `${a.localId}:${a.status}`)]),
        [
          // No status line of its own: derived from its one (open) checkbox.
          ['D82', 'OPEN', '', 1, ['#1:OPEN']],
          ['D82-10', 'PARTIAL', 'PARTIAL', 3, []],
          ['D206-0', 'DONE', '✅ COMPLETED (2026-01-06)', 10, ['AC-1:DONE', 'AC-2:OPEN', '#3:DONE']],
          ['D99-7', 'IN_PROGRESS', '🚧 IN PROGRESS (2025-12-19)', 22, []],
        ],
      );
      assert.deepEqual(r.stats, { ticketSections: 4, stepRows: 0, tableAcs: 0, statusLines: 4, checkboxes: 4, checkboxesDone: 2 });
      assert.deepEqual(r.diagnostics, []);
    });

    it('reports an unknown status line with its line number', () => {
      const r = parseRoadmap('### D1-1: x\n\n**Status:** SOMEDAY\n', 'R.md');
      assert.deepEqual(r.diagnostics.map((d) => [d.line, d.code, d.message]), [[3, 'ssot.unknown-status', 'unknown status "SOMEDAY"']]);
    });
  });
});
