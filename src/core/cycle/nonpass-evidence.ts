/**
 * What the evidence of a cycle that did not PASS (FAIL, BLOCKED, TIMEOUT, ABORTED) shares between
 * its two writers (phases/verdict-evidence.ts, abort-evidence.ts): the run folder it goes in, the
 * README's "What happened" section, and the repo-relative name the history line carries. These
 * folders are never committed (only a PASS commits its evidence).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE } from '../evidence/evidence-format';
import { allocateRunDir, type WrittenEvidence } from '../evidence/writer';
import { atomicWrite } from '../util/atomic-write';

/**
 * The run folder for a non-PASS run: `<evidenceDir>/<runId>` when that name is a run id and no
 * folder has it yet (created exclusively, so nothing already there — a half-written PASS, an
 * earlier FAIL of the same run — is ever written into), else a fresh one next to it.
 */
export function claimRunFolder(evidenceDir: string, runId: string, startedAt: Date, ticketId: string, commit: string | null): Promise<{ runId: string; dir: string }> {
  return allocateRunDir(evidenceDir, startedAt, ticketId, commit, runId);
}

/**
 * Add a section to the run's README.md (after what the writer put there) and update its entry in
 * the manifest, so the run still validates. The manifest is rewritten last, as the writer does.
 */
export async function appendToReadme(written: WrittenEvidence, lines: readonly string[]): Promise<void> {
  const readme = path.join(written.dir, 'README.md');
  const text = `${fs.readFileSync(readme, 'utf8').replace(/\n*$/, '\n')}\n${lines.join('\n')}\n`;
  await atomicWrite(readme, text);
  const manifestFile = path.join(written.dir, MANIFEST_FILE);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: { path: string; sha256: string; bytes: number }[] };
  const entry = manifest.files.find((f) => f.path === 'README.md');
  if (!entry) return;
  entry.sha256 = createHash('sha256').update(text).digest('hex');
  entry.bytes = Buffer.byteLength(text);
  await atomicWrite(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
}

/** The folder as history and the ledger name evidence: `<config.paths.evidence>/<run id>/`. */
export function evidenceFolderName(evidencePathSetting: string, runId: string): string {
  return `${evidencePathSetting.replace(/\\/g, '/').replace(/\/+$/, '')}/${runId}/`;
}

/** Markdown list items, each on one line (reasons may hold newlines). */
export function bullets(items: readonly string[]): string[] {
  return items.map((i) => `- ${i.replace(/\s*\n\s*/g, ' ')}`);
}
