import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { FactoryConfig } from '../config/schema';
import { atomicWrite } from '../util/atomic-write';
import { MANIFEST_FILE } from './evidence-format';
import { RUN_ID_RE } from './run-id';

/** One evidence run as the Runs view and the cost summary see it. */
export interface EvidenceIndexEntry {
  runId: string;
  ticketId: string | null;
  status: string;
  /** Run start (ISO). */
  timestamp: string | null;
  durationSeconds: number | null;
  costUsd: number | null;
  gates: Record<string, string>;
  cacheHit: boolean;
  /** False when the folder has no readable, valid manifest (being written, or broken). */
  complete: boolean;
  /** manifest.json mtime and size when read: a changed manifest is read again. */
  mtimeMs: number;
  size: number;
}

const entrySchema = z.object({
  runId: z.string(),
  ticketId: z.string().nullable(),
  status: z.string(),
  timestamp: z.string().nullable(),
  durationSeconds: z.number().nullable(),
  costUsd: z.number().nullable(),
  gates: z.record(z.string(), z.string()),
  cacheHit: z.boolean(),
  complete: z.boolean(),
  mtimeMs: z.number(),
  size: z.number(),
});
const cacheSchema = z.object({ version: z.literal(1), entries: z.array(entrySchema) });

/**
 * The manifest fields the index shows. Checking only these (not the file list and its hashes)
 * keeps a cold index of thousands of runs fast; `validateEvidence` is where a run is judged.
 */
const indexedManifest = z.object({
  ticket_id: z.string(),
  status: z.string(),
  timestamp: z.string(),
  duration_seconds: z.number(),
  cost_usd: z.number().nullable(),
  gates: z.record(z.string(), z.string()),
  gate_cache: z.object({ hit: z.boolean() }).nullable(),
});

export interface EvidenceIndexOptions {
  /**
   * Where the index is kept between calls (conventionally `<paths.autopilot>/evidence_index.json`).
   * Without it every call reads every manifest.
   */
  cacheFile?: string;
}

/** Where the CLI and the extension keep the index: `<paths.autopilot>/evidence_index.json`. */
export function evidenceIndexFile(root: string, config: Pick<FactoryConfig, 'paths'>): string {
  return path.join(root, config.paths.autopilot, 'evidence_index.json');
}

export interface EvidenceIndex {
  /** Newest first. */
  entries: EvidenceIndexEntry[];
  /** How many manifests had to be read this time (the rest came from the cache). */
  read: number;
}

function readEntry(runId: string, manifestPath: string, st: fs.Stats | undefined): EvidenceIndexEntry {
  const broken: EvidenceIndexEntry = {
    runId,
    ticketId: null,
    status: 'INCOMPLETE',
    timestamp: null,
    durationSeconds: null,
    costUsd: null,
    gates: {},
    cacheHit: false,
    complete: false,
    mtimeMs: st?.mtimeMs ?? 0,
    size: st?.size ?? 0,
  };
  if (!st) return broken;
  try {
    const parsed = indexedManifest.safeParse(JSON.parse(fs.readFileSync(manifestPath, 'utf8')));
    if (!parsed.success) return broken;
    const m = parsed.data;
    return {
      runId,
      ticketId: m.ticket_id,
      status: m.status,
      timestamp: m.timestamp,
      durationSeconds: m.duration_seconds,
      costUsd: m.cost_usd,
      gates: m.gates,
      cacheHit: m.gate_cache?.hit ?? false,
      complete: true,
      mtimeMs: st.mtimeMs,
      size: st.size,
    };
  } catch {
    return broken;
  }
}

function loadCache(file: string | undefined): Map<string, EvidenceIndexEntry> {
  if (!file) return new Map();
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (parsed.success) return new Map(parsed.data.entries.map((e) => [e.runId, e]));
  } catch {
    /* absent or corrupt: rebuilt below */
  }
  return new Map();
}

/**
 * The index of all runs under `evidenceDir`, newest first. Incremental: a run whose manifest has
 * the same mtime and size as last time is taken from the cache file, so thousands of runs cost one
 * directory listing plus one stat each; only new or changed runs are read. Folders whose names are
 * not run ids are ignored.
 */
export async function loadEvidenceIndex(evidenceDir: string, opts: EvidenceIndexOptions = {}): Promise<EvidenceIndex> {
  const cached = loadCache(opts.cacheFile);
  let names: string[];
  try {
    names = fs
      .readdirSync(evidenceDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && RUN_ID_RE.test(d.name))
      .map((d) => d.name);
  } catch {
    names = [];
  }
  const entries: EvidenceIndexEntry[] = [];
  let read = 0;
  let changed = cached.size !== names.length;
  for (const runId of names) {
    const manifestPath = path.join(evidenceDir, runId, MANIFEST_FILE);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(manifestPath);
    } catch {
      st = undefined;
    }
    const prev = cached.get(runId);
    if (prev && st && prev.complete && prev.mtimeMs === st.mtimeMs && prev.size === st.size) {
      entries.push(prev);
      continue;
    }
    read++;
    changed = true;
    entries.push(readEntry(runId, manifestPath, st));
  }
  // Run ids start with the time, so a name sort is a time sort.
  entries.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  if (opts.cacheFile && changed) {
    await fs.promises.mkdir(path.dirname(opts.cacheFile), { recursive: true });
    await atomicWrite(opts.cacheFile, JSON.stringify({ version: 1, entries }));
  }
  return { entries, read };
}
