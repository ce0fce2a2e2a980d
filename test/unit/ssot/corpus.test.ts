import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configSchema } from '../../../src/core/config/schema';
import { parseLedger } from '../../../src/core/ssot/ledger';
import type { Status } from '../../../src/core/ssot/model';
import { parseRoadmap } from '../../../src/core/ssot/roadmap';
import { computeStatus } from '../../../src/core/ssot/status';
import { indexWorkspace } from '../../../src/core/ssot/workspace';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';

/**
 * The real SSOT documents of the arbitrage-bot project, read in place. Every count here was
 * checked independently with grep (noted next to it) so the parser cannot agree with itself.
 */

const LEDGER = 'docs/v2/design/AC_LEDGER.md';
const ROADMAP = 'D_ROADMAP.md';
const V2 = 'docs/v2/ROADMAP_V2.md';
const LEGACY = 'docs/archive/ROADMAP_LEGACY_FULL_20260220.md';

function read(rel: string): string {
  return fs.readFileSync(path.join(CORPUS_DIR, rel), 'utf8');
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

describe('SSOT corpus (arbitrage-bot, read in place)', function () {
  before(function () {
    requireCorpus(this);
  });

  it('AC_LEDGER: 191 rows, 24 DONE, 167 OPEN, preamble keys, no diagnostics', () => {
    // grep -c '^| D' → 191; grep -c '| DONE |' → 24; grep -c '| OPEN |' → 167
    const l = parseLedger(read(LEDGER), LEDGER);
    assert.equal(l.acs.length, 191);
    assert.deepEqual(countBy(l.acs, (a) => a.status), { DONE: 24, OPEN: 167 });
    assert.deepEqual(Object.keys(l.meta), ['generated_at', 'updated_at', 'sources', 'rules', 'queue_policy', 'legacy_policy']);
    assert.match(l.meta.queue_policy ?? '', /^SEQUENTIAL_QUEUE/);
    assert.deepEqual(l.diagnostics, []);
    const first = l.acs[0];
    assert.equal(first?.id, 'D_ALPHA-0::AC-1');
    assert.equal(first?.ticketId, 'D_ALPHA-0');
    assert.equal(first?.localId, 'AC-1');
    assert.equal(first?.commit, '5b482ef');
    assert.equal(first?.stage, 'D_ALPHA');
    assert.equal(first?.source.line, 9);
    assert.equal(l.acs[190]?.id, 'D000-3::AC-3');
    assert.equal(l.acs[190]?.notes, '[META]');
  });

  it('D_ROADMAP: 8 phases with 8/7/12/4/3/9/6/1 tickets; DONE/TOTAL where the table has it', () => {
    const r = parseRoadmap(read(ROADMAP), ROADMAP);
    assert.deepEqual(
      r.phases.map((p) => [p.title.replace(/:.*/, ''), p.ticketIds.length]),
      [['Phase 1', 8], ['Phase 2', 7], ['Phase 3', 12], ['Phase 4', 4], ['Phase 5', 3], ['Phase 6', 9], ['Phase 7', 6], ['Phase META', 1]],
    );
    assert.equal(r.tickets.length, 50);
    assert.equal(r.stats.stepRows, 50);
    assert.deepEqual(countBy(r.tickets, (t) => t.status), { DONE: 3, PARTIAL: 3, OPEN: 44 });
    // Phases 1–5 have a DONE/TOTAL column (8+7+12+4+3 = 34 tickets); 6, 7 and META do not.
    assert.equal(r.tickets.filter((t) => t.total !== undefined).length, 34);
    const fix2 = r.tickets.find((t) => t.id === 'D_ALPHA-1U-FIX-2');
    assert.deepEqual([fix2?.done, fix2?.total, fix2?.status, fix2?.phase?.startsWith('Phase 1')], [1, 5, 'PARTIAL', true]);
    assert.equal(r.tickets.find((t) => t.id === 'D216')?.total, undefined);
    // Tables that are not phase step tables (SSOT 선언, D번호 의미 …) yield nothing.
    assert.ok(!r.tickets.some((t) => t.id === 'D82' || t.id === 'D200'));
    assert.deepEqual(r.diagnostics, []);
  });

  it('ROADMAP_V2: 47 ticket sections with 254 AC rows (17 DONE), 3 step rows, 8 phases', () => {
    // grep -c '^### D' → 48 (one is the range "D213~D215", not a ticket);
    // rows ending in OPEN/DONE → 257 = 254 AC rows + 3 step rows; DONE AC rows → 17.
    const r = parseRoadmap(read(V2), V2);
    assert.equal(r.stats.ticketSections, 47);
    assert.equal(r.stats.tableAcs, 254);
    assert.equal(r.stats.stepRows, 3);
    assert.equal(r.tickets.length, 50);
    assert.equal(r.phases.length, 8);
    const acs = r.tickets.flatMap((t) => t.acs);
    assert.deepEqual(countBy(acs, (a) => a.status), { DONE: 17, OPEN: 237 });
    const alpha0 = r.tickets.find((t) => t.id === 'D_ALPHA-0');
    assert.deepEqual(alpha0?.acs.map((a) => `${a.localId}=${a.status}`), ['AC-1=DONE', 'AC-2=OPEN', 'AC-3=OPEN', 'AC-4=DONE']);
    assert.equal(alpha0?.acs[0]?.evidence, 'logs/evidence/d_alpha_0_universe_truth_*/edge_survey_report.json');
    // No status of its own: derived from the ACs (2 of 4 DONE).
    assert.equal(alpha0?.status, 'PARTIAL');
    assert.deepEqual(r.diagnostics, []);
  });

  it('legacy roadmap: 251 ticket sections of 179 tickets, 323 status lines, 686 checkboxes (552 ticked)', () => {
    // grep -cE '\*\*(상태|Status)' → 323; grep -cE '^\s*[-*] \[[ xX]\]' → 686; with [xX] → 552.
    const r = parseRoadmap(read(LEGACY), LEGACY);
    assert.equal(r.stats.ticketSections, 251);
    assert.equal(r.tickets.length, 179);
    assert.equal(r.stats.statusLines, 323);
    assert.equal(r.stats.checkboxes, 686);
    assert.equal(r.stats.checkboxesDone, 552);
    // One checkbox sits under a heading that names no ticket; the other 685 belong to tickets.
    assert.equal(r.tickets.reduce((n, t) => n + t.acs.length, 0), 685);
    assert.deepEqual(r.phases, []);
    assert.deepEqual(r.diagnostics, [], r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));

    const byId = new Map(r.tickets.map((t) => [t.id, t]));
    // "### D82-10: D82-10: …" then "**상태:** PARTIAL" (the quoted "✅ COMPLETE" describes a report).
    assert.deepEqual([byId.get('D82-10')?.status, byId.get('D82-10')?.rawStatus], ['PARTIAL', 'PARTIAL']);
    // The repeated id is not part of the title; a different sub-id is ("D82-9: D82-9A: …").
    assert.equal(byId.get('D82-10')?.title, 'Recalibrated Edge Model & TP/Entry Candidate Re-selection');
    assert.equal(byId.get('D82-9')?.title, 'D82-9A: Real PAPER KPI Deepdive Analysis');
    assert.equal(byId.get('D83-0')?.status, 'DONE'); // **상태:** ACCEPTED
    // "#### 신 D206-0: …" — the "new" prefix is not part of the id.
    assert.ok(byId.has('D206-0'));
    // A heading nested one level deeper is its own ticket: "##### D205-8-1: …".
    assert.ok(byId.has('D205-8-1'));
    const withAcs = byId.get('D_ALPHA-1U');
    assert.ok(withAcs && withAcs.acs.some((a) => a.localId === 'AC-1' && a.origin === 'checkbox'));
    // Headings inside fenced code blocks ("# Gate 10m 2-run …") are not sections.
    assert.ok(!r.tickets.some((t) => t.source.line === 1017));
  });

  it('the whole corpus indexes with exactly two true findings and no false diagnostic', async () => {
    const config = configSchema.parse({ ssot: { extraRoadmaps: [V2, LEGACY] } });
    const index = await indexWorkspace(CORPUS_DIR, config);
    const found = index.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`);
    assert.deepEqual(found, [
      // TRUE finding: ROADMAP_V2's D212 table repeats the AC id "D212-1" on three rows (450-452),
      // so two of them cannot be addressed; the ledger kept only one row (D212-1::AC-1).
      'docs/v2/ROADMAP_V2.md:451 ssot.duplicate-ac',
      'docs/v2/ROADMAP_V2.md:452 ssot.duplicate-ac',
      // TRUE finding: D_ROADMAP says D_ALPHA-1U-FIX-2 is 1/5 and ROADMAP_V2 lists AC-1..AC-5, but
      // the ledger has a single row for it: AC-2..AC-5 were dropped without a MOVED_TO mark,
      // which the SSOT rules forbid ("AC 삭제 금지").
      'D_ROADMAP.md:84 ssot.progress-mismatch',
    ]);
    // Every other DONE/TOTAL agrees with the ledger (33 of the 34 tickets that have one).
    const status = computeStatus(index);
    assert.equal(status.acs.total, 191);
    assert.equal(status.acs.done, 24);
    // The spec's pointer: "현재 위치 D_ALPHA-1U-FIX-2-1::AC-5" = the first OPEN ledger row.
    assert.equal(status.next?.acId, 'D_ALPHA-1U-FIX-2-1::AC-5');
    assert.deepEqual(status.upcoming.map((u) => u.acId), ['D_ALPHA-2::AC-1', 'D_ALPHA-3::AC-1', 'D_ALPHA-3::AC-2']);
    assert.equal(index.phases.length, 8);
    const byStatus: Partial<Record<Status, number>> = status.tickets.byStatus;
    assert.equal(Object.values(byStatus).reduce((a, b) => a + (b ?? 0), 0), index.tickets.length);
  });
});
