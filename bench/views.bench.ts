/**
 * What a view refresh costs on top of indexing: building the Roadmap (phase → ticket → AC) and AC
 * Queue rows from the index of the real corpus (D_ROADMAP, the 191-row ledger, ROADMAP_V2 and the
 * 360 KB legacy roadmap). Baseline, same run: indexing those documents, which every refresh does
 * anyway. Goal: the rows cost under 10 % of the index.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { indexDocuments, type SsotDocument } from '../src/core/ssot/workspace';
import { buildQueueRows } from '../src/extension/views/ac-queue/ac-queue-model';
import { buildRoadmapRows } from '../src/extension/views/roadmap/roadmap-model';
import { CORPUS_DIR } from '../test/support/engines';
import { line, time } from './stats';

export async function run(): Promise<void> {
  if (!fs.existsSync(CORPUS_DIR)) {
    console.log(`skipped: the corpus is not at ${CORPUS_DIR}`);
    return;
  }
  const read = (rel: string): SsotDocument => ({ file: rel, text: fs.readFileSync(path.join(CORPUS_DIR, rel), 'utf8') });
  const docs = {
    roadmap: read('D_ROADMAP.md'),
    ledger: read('docs/v2/design/AC_LEDGER.md'),
    extraRoadmaps: [read('docs/v2/ROADMAP_V2.md'), read('docs/archive/ROADMAP_LEGACY_FULL_20260220.md')],
  };
  const index = indexDocuments(docs);
  const roadmapRows = buildRoadmapRows(index);
  const rowCount = roadmapRows.reduce((n, p) => n + 1 + p.children.reduce((m, t) => m + 1 + t.children.length, 0), 0);
  console.log(`corpus: ${index.phases.length} phases, ${index.tickets.length} tickets, ${index.ledger.length} ledger rows → ${rowCount} roadmap rows, ${buildQueueRows(index).length} queue rows`);

  const baseline = await time(() => indexDocuments(docs), 15, 3);
  line('baseline: index the corpus (indexDocuments)', baseline);
  const rows = await time(() => {
    buildRoadmapRows(index);
    buildQueueRows(index);
  }, 50, 5);
  line('view rows: Roadmap + AC Queue from the index', rows, baseline, '< 10 % of the index');
}
