/**
 * What the evidence of a cycle that did not PASS (FAIL, BLOCKED, TIMEOUT, ABORTED) shares between
 * its two writers (phases/verdict-evidence.ts, abort-evidence.ts): the run folder it goes in, the
 * README's bullet lists, and the repo-relative name the history line carries. These
 * folders are never committed (only a PASS commits its evidence).
 */
import { allocateRunDir } from '../evidence/writer';

/**
 * The run folder for a non-PASS run: `<evidenceDir>/<runId>` when that name is a run id and no
 * folder has it yet (created exclusively, so nothing already there — a half-written PASS, an
 * earlier FAIL of the same run — is ever written into), else a fresh one next to it.
 */
export function claimRunFolder(evidenceDir: string, runId: string, startedAt: Date, ticketId: string, commit: string | null): Promise<{ runId: string; dir: string }> {
  return allocateRunDir(evidenceDir, startedAt, ticketId, commit, runId);
}

/** The folder as history and the ledger name evidence: `<config.paths.evidence>/<run id>/`. */
export function evidenceFolderName(evidencePathSetting: string, runId: string): string {
  return `${evidencePathSetting.replace(/\\/g, '/').replace(/\/+$/, '')}/${runId}/`;
}

/** Markdown list items, each on one line (reasons may hold newlines). */
export function bullets(items: readonly string[]): string[] {
  return items.map((i) => `- ${i.replace(/\s*\n\s*/g, ' ')}`);
}
