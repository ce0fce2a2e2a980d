/**
 * SSOT indexing speed and memory.
 * (a) the real corpus (D_ROADMAP + ledger + ROADMAP_V2 + the 360 KB legacy roadmap): our whole
 *     index next to markdown-it's full `parse` of the same bytes and its block pass alone.
 *     Goals: < 12 ms and ≤ 0.4× the full parse.
 * (b) generated: a ledger of 50,000 ACs + a roadmap of 10,000 tickets. Goals: < 300 ms, < 150 MB.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';
import { computeStatus } from '../src/core/ssot/status';
import { indexDocuments, type SsotDocuments } from '../src/core/ssot/workspace';
import { fmt, line, time } from './stats';

const CORPUS = path.resolve(__dirname, '..', '..', 'shared', 'corpus', 'arbitrage-bot');
const FILES = ['D_ROADMAP.md', 'docs/v2/design/AC_LEDGER.md', 'docs/v2/ROADMAP_V2.md', 'docs/archive/ROADMAP_LEGACY_FULL_20260220.md'];

// A real collection between memory samples, without needing `node --expose-gc`.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * CPU time per run (user + system, this process), next to the wall-clock figures: on a machine
 * shared by several busy processes the wall clock mostly measures waiting for a core.
 */
function cpuPerRun(fn: () => unknown, runs: number): number {
  fn();
  const t0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / runs;
}

function loadavg(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

async function corpus(): Promise<void> {
  if (!fs.existsSync(CORPUS)) {
    console.log(`corpus not found at ${CORPUS}: (a) skipped`);
    return;
  }
  const texts = FILES.map((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8'));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  const docs: SsotDocuments = {
    roadmap: { file: FILES[0], text: texts[0] },
    ledger: { file: FILES[1], text: texts[1] },
    extraRoadmaps: [
      { file: FILES[2], text: texts[2] },
      { file: FILES[3], text: texts[3] },
    ],
  };
  const md = new MarkdownIt();
  const runs = 60;
  const full = await time(() => {
    for (const t of texts) md.parse(t, {});
  }, runs, 5);
  const block = await time(() => {
    for (const t of texts) {
      const out: Token[] = [];
      md.block.parse(t, md, {}, out);
    }
  }, runs, 5);
  const ours = await time(() => computeStatus(indexDocuments(docs)), runs, 5);
  console.log(`(a) corpus: ${FILES.length} documents, ${(bytes / 1024).toFixed(0)} KB`);
  line('markdown-it full parse (baseline)', full);
  line('markdown-it block pass only', block, full);
  line('our index + status (all four documents)', ours, full, '< 12 ms and ≤ 0.40× full parse');
  const cpuFull = cpuPerRun(() => {
    for (const t of texts) md.parse(t, {});
  }, 20);
  const cpuOurs = cpuPerRun(() => computeStatus(indexDocuments(docs)), 60);
  console.log(`    cpu time per run: ours ${fmt(cpuOurs)}, full parse ${fmt(cpuFull)} (${(cpuOurs / cpuFull).toFixed(2)}×); load average ${loadavg()}`);
  const ratio = ours.median / full.median;
  console.log(
    `    → ${ours.median < 12 ? 'MET' : 'MISSED'} < 12 ms (median ${fmt(ours.median)}, min ${fmt(ours.min)}); ` +
      `${ratio <= 0.4 ? 'MET' : 'MISSED'} ≤ 0.40× (${ratio.toFixed(2)}×); vs block pass alone ${(ours.median / block.median).toFixed(2)}×`,
  );
}

/** A ledger of `tickets × acsPer` rows and a roadmap of `tickets` step rows in phases of 100. */
export function generate(tickets: number, acsPer: number): SsotDocuments {
  const ledger = ['generated_at: bench', '| AC_ID | TITLE | STAGE | STATUS | CANONICAL_EVIDENCE | LAST_COMMIT | DUP_GROUP_KEY | NOTES |', '|---|---|---|---|---|---|---|---|'];
  const roadmap = ['# Generated roadmap', ''];
  for (let t = 0; t < tickets; t++) {
    if (t % 100 === 0) roadmap.push('', `### Phase ${t / 100 + 1}: 단계 ${t / 100 + 1}`, '', '| Step | Goal | DONE/TOTAL | Status |', '|---|---|---|---|');
    const id = `D${300 + Math.floor(t / 100)}-${t % 100}`;
    const done = t % 7 === 0 ? acsPer : t % 3 === 0 ? 1 : 0;
    roadmap.push(`| ${id} | Goal of ${id} — 목표 | ${done}/${acsPer} | ${done === acsPer ? 'DONE' : done > 0 ? 'PARTIAL' : 'OPEN'} |`);
    for (let a = 1; a <= acsPer; a++) {
      const isDone = a <= done;
      ledger.push(
        `| ${id}::AC-${a} | ${id} acceptance criterion ${a} \\| with pipe | D${300 + Math.floor(t / 100)} | ${isDone ? 'DONE' : 'OPEN'} | ${isDone ? `logs/evidence/${id}_${a}/` : 'NONE'} | ${isDone ? 'abc1234' : 'UNKNOWN'} | — | — |`,
      );
    }
  }
  return { roadmap: { file: 'D_ROADMAP.md', text: roadmap.join('\n') }, ledger: { file: 'AC_LEDGER.md', text: ledger.join('\n') } };
}

async function generated(): Promise<void> {
  const docs = generate(10_000, 5);
  const bytes = Buffer.byteLength(docs.roadmap!.text) + Buffer.byteLength(docs.ledger!.text);
  const md = new MarkdownIt();
  const baseline = await time(() => {
    const out: Token[] = [];
    md.block.parse(docs.ledger!.text, md, {}, out);
    md.block.parse(docs.roadmap!.text, md, {}, out);
  }, 10, 2);
  const ours = await time(() => computeStatus(indexDocuments(docs)), 10, 2);
  const cpuOurs = cpuPerRun(() => computeStatus(indexDocuments(docs)), 5);

  // Indexing is synchronous, so nothing can sample memory while it runs: measure the heap right
  // after it (live index + its garbage) and after a collection (what the index keeps).
  gc();
  const before = process.memoryUsage();
  const index = indexDocuments(docs);
  const report = computeStatus(index);
  const afterRaw = process.memoryUsage();
  gc();
  const retained = process.memoryUsage();

  console.log(`(b) generated: ledger ${index.ledger.length} ACs + roadmap ${index.tickets.length} tickets in ${index.phases.length} phases, ${mb(bytes)}; ${report.diagnostics.length} diagnostics`);
  line('markdown-it block pass, stock (baseline)', baseline);
  line('our index + status', ours, baseline, '< 300 ms');
  console.log(`    cpu time per run: ours ${fmt(cpuOurs)} (GC included); load average ${loadavg()}`);
  console.log(
    `    heap: +${mb(afterRaw.heapUsed - before.heapUsed)} right after indexing, +${mb(retained.heapUsed - before.heapUsed)} retained (index held); ` +
      `rss: ${mb(afterRaw.rss - before.rss)} delta right after  [goal: < 150 MB]`,
  );
  const worst = Math.max(afterRaw.heapUsed - before.heapUsed, afterRaw.rss - before.rss);
  console.log(`    → ${ours.median < 300 ? 'MET' : 'MISSED'} < 300 ms (median ${fmt(ours.median)}, min ${fmt(ours.min)}, cpu ${fmt(cpuOurs)}); ${worst < 150 * 1048576 ? 'MET' : 'MISSED'} < 150 MB (worst delta ${mb(worst)})`);
  if (index.ledger.length !== 50_000 || index.tickets.length !== 10_000 || report.diagnostics.length !== 0) {
    throw new Error('generated documents were not indexed as generated');
  }
}

export async function run(): Promise<void> {
  await corpus();
  await generated();
}
