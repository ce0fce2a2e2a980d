/**
 * What the Runs view reads from disk: the evidence index, history.jsonl and one run's file list.
 * No `vscode` here: plain mocha tests it on real folders. The files are the repository's, so they
 * are read like untrusted input: regular files only (no symlink is followed), size-capped, and
 * file names checked before they become paths to open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { readUntrustedJson } from '../../../core/contracts/untrusted-json';
import { pushState } from '../../../core/cycle/push';
import { MANIFEST_FILE } from '../../../core/evidence/evidence-format';
import { loadEvidenceIndex, type EvidenceIndexEntry } from '../../../core/evidence/run-index';
import { readHistory, type HistoryLine, type HistoryProblem } from '../../../core/history/history';
import { errorMessage } from '../../../core/util/errors';
import { evidenceFileSchema } from '../../../shared/protocol';
import type { EvidenceFile } from './runs-rows';

/** history.jsonl's name inside `paths.autopilot` (as the cycle writes it). */
export const HISTORY_FILE = 'history.jsonl';
const MAX_MANIFEST_BYTES = 2 * 1024 * 1024;
const MAX_FILES = 1000;

export interface RunsData {
  evidence: EvidenceIndexEntry[];
  /** history.jsonl entries, oldest first. */
  history: HistoryLine[];
  /** Problems worth a log line (a broken hash chain, an unreadable file). */
  problems: string[];
  /** `git.push` on: run ids whose commit is not on the branch's upstream (from git, `@{u}..HEAD`). */
  notPushed?: string[];
}

/**
 * The evidence index of `<root>/<evidenceDir>` and the records of `<root>/<autopilotDir>/history.jsonl`.
 * `cacheFile` keeps the index between calls (the CLI's `evidence_index.json`). Never throws.
 */
export async function loadRunsData(root: string, evidenceDir: string, autopilotDir: string, opts: { cacheFile?: string; push?: boolean } = {}): Promise<RunsData> {
  const problems: string[] = [];
  let evidence: EvidenceIndexEntry[] = [];
  try {
    evidence = (await loadEvidenceIndex(path.join(root, evidenceDir), opts.cacheFile ? { cacheFile: opts.cacheFile } : {})).entries;
  } catch (err) {
    problems.push(`evidence index: ${errorMessage(err)}`);
  }
  let history: HistoryLine[] = [];
  const historyFile = path.join(root, autopilotDir, HISTORY_FILE);
  try {
    const read = readHistory(historyFile);
    history = read.records;
    problems.push(...read.problems.map((p: HistoryProblem) => `${autopilotDir}/${HISTORY_FILE}:${p.line}: ${p.kind}: ${p.message}`));
  } catch (err) {
    problems.push(`${autopilotDir}/${HISTORY_FILE}: ${errorMessage(err)}`);
  }
  if (!opts.push) return { evidence, history, problems };
  let notPushed: string[] = [];
  try {
    notPushed = (await pushState(root)).runIds;
  } catch (err) {
    problems.push(`not-pushed commits: ${errorMessage(err)}`);
  }
  return { evidence, history, problems, notPushed };
}

/** The manifest fields the children need; the rest of the manifest is not looked at here. */
const manifestFiles = z.object({
  ac_ids: z.array(z.string()).optional(),
  files: z.array(z.object({ path: z.string(), bytes: z.number().optional() })).optional(),
});

export interface RunFiles {
  /** Where the list came from: the manifest, or a listing of the folder when it has none. */
  source: 'manifest' | 'listing';
  acIds: string[];
  /** manifest.json first (when there is one), then the manifest's files in its order. */
  files: EvidenceFile[];
}

/** Size of `<dir>/<rel>` when it is a regular file reached through real folders only (no symlink anywhere). */
function regularSize(dir: string, rel: string): number | undefined {
  const segments = rel.split('/');
  let at = dir;
  try {
    for (const [i, s] of segments.entries()) {
      at = path.join(at, s);
      const st = fs.lstatSync(at);
      if (i === segments.length - 1) return st.isFile() ? st.size : undefined;
      if (!st.isDirectory()) return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Regular files under `dir`, relative, sorted; symlinks and special files are skipped. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number): void => {
    if (depth > 4 || out.length >= MAX_FILES) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p, depth + 1);
      else if (d.isFile()) out.push(p);
    }
  };
  walk('', 0);
  return out.slice(0, MAX_FILES);
}

/**
 * The files of one run folder: the manifest's list (each checked to be a plain relative path and
 * marked missing when no regular file is there), or, when the manifest is absent or unreadable, a
 * listing of the folder. Never throws.
 */
export function readRunFiles(runDir: string): RunFiles {
  const manifestPath = path.join(runDir, MANIFEST_FILE);
  let manifest: z.output<typeof manifestFiles> | undefined;
  try {
    manifest = readUntrustedJson(manifestPath, manifestFiles, MAX_MANIFEST_BYTES, MANIFEST_FILE);
  } catch {
    manifest = undefined;
  }
  const entry = (p: string, bytes?: number): EvidenceFile => {
    const size = regularSize(runDir, p);
    return { path: p, bytes: size ?? bytes ?? null, present: size !== undefined };
  };
  if (!manifest?.files) {
    return { source: 'listing', acIds: manifest?.ac_ids ?? [], files: listFiles(runDir).filter((p) => evidenceFileSchema.safeParse(p).success).map((p) => entry(p)) };
  }
  const seen = new Set<string>([MANIFEST_FILE]);
  const files: EvidenceFile[] = [entry(MANIFEST_FILE)];
  for (const f of manifest.files) {
    if (files.length >= MAX_FILES) break;
    if (seen.has(f.path) || !evidenceFileSchema.safeParse(f.path).success) continue;
    seen.add(f.path);
    files.push(entry(f.path, f.bytes));
  }
  return { source: 'manifest', acIds: manifest.ac_ids ?? [], files };
}
