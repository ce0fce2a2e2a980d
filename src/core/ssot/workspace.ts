import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { checkRepoPath } from '../paths/validate';
import { FactoryError } from '../util/errors';
import type { ProgressSink } from '../util/log';
import { append, checkInvariants, findDeletedAcs } from './invariants';
import { parseLedger, type LedgerParse } from './ledger';
import type { Diagnostic, Phase, SsotIndex, Ticket } from './model';
import { parseRoadmap, type RoadmapParse } from './roadmap';

/** SEC-18: documents larger than this are rejected with a diagnostic instead of parsed. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

/** A document's text with its path relative to the workspace root (forward slashes). */
export interface SsotDocument {
  file: string;
  text: string;
}

export interface SsotDocuments {
  /** D_ROADMAP.md: phases and step tables (the primary roadmap: its values win). */
  roadmap?: SsotDocument;
  /** The AC ledger: the queue. */
  ledger?: SsotDocument;
  /** Further roadmaps (ROADMAP_V2.md, the legacy roadmap …): tickets and their ACs. */
  extraRoadmaps?: SsotDocument[];
}

export interface IndexOptions {
  /** Size cap per document in bytes (UTF-8); default {@link DEFAULT_MAX_DOCUMENT_BYTES}. */
  maxBytes?: number;
}

export interface IndexWorkspaceOptions extends IndexOptions {
  signal?: AbortSignal;
  /** One step per document parsed, then the invariants. */
  progress?: ProgressSink;
  /** Compare the ledger with git HEAD for deleted ACs (SEC-30). Default true. */
  git?: boolean;
}

/** The parsed pieces before merging; exported for callers that cache per-document results. */
export interface ParsedDocuments {
  roadmap?: RoadmapParse;
  ledger?: LedgerParse;
  extraRoadmaps: RoadmapParse[];
  /** Diagnostics about whole documents (too large, unreadable). */
  diagnostics: Diagnostic[];
}

/**
 * Index in-memory texts (the extension indexes unsaved editor buffers this way). Pure and
 * synchronous; {@link indexWorkspace} is the async variant that reads files and yields between
 * documents.
 */
export function indexDocuments(docs: SsotDocuments, opts: IndexOptions = {}): SsotIndex {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const parsed: ParsedDocuments = { extraRoadmaps: [], diagnostics: [] };
  if (docs.roadmap && withinCap(docs.roadmap, maxBytes, parsed.diagnostics)) parsed.roadmap = parseRoadmap(docs.roadmap.text, docs.roadmap.file);
  if (docs.ledger && withinCap(docs.ledger, maxBytes, parsed.diagnostics)) parsed.ledger = parseLedger(docs.ledger.text, docs.ledger.file);
  for (const d of docs.extraRoadmaps ?? []) {
    if (withinCap(d, maxBytes, parsed.diagnostics)) parsed.extraRoadmaps.push(parseRoadmap(d.text, d.file));
  }
  return mergeDocuments(parsed);
}

/**
 * Read `config.ssot.roadmap`, `.ledger` and `.extraRoadmaps` under `root`, parse them (yielding to
 * the event loop between documents so an extension host stays responsive), merge, and run the
 * invariants, including the deleted-AC check against git HEAD.
 *
 * A missing optional document is fine; when neither the roadmap nor the ledger exists this throws
 * `FactoryError` with code `ssot.missing` (exit code 2).
 */
export async function indexWorkspace(root: string, config: FactoryConfig, opts: IndexWorkspaceOptions = {}): Promise<SsotIndex> {
  const { signal } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const parsed: ParsedDocuments = { extraRoadmaps: [], diagnostics: [] };

  const roadmapRel = config.ssot.roadmap;
  const ledgerRel = config.ssot.ledger;
  const roadmap = await readDocument(root, roadmapRel, maxBytes, parsed.diagnostics, signal);
  const ledger = await readDocument(root, ledgerRel, maxBytes, parsed.diagnostics, signal);
  if (roadmap === 'missing' && ledger === 'missing') {
    throw new FactoryError(`no SSOT documents: neither ${roadmapRel} nor ${ledgerRel} exists under ${root}`, 'ssot.missing');
  }
  // A document listed twice (or an extra roadmap that is the roadmap itself) is read once: read
  // twice, its ACs would all be reported as duplicates.
  const extras = [...new Set(config.ssot.extraRoadmaps)].filter((rel) => rel !== roadmapRel && rel !== ledgerRel);
  const maxStep = 3 + extras.length;
  let step = 0;
  const report = (message: string) => opts.progress?.({ step: ++step, maxStep, message });

  report(`parsing ${roadmapRel}`);
  if (typeof roadmap === 'object') {
    await yieldToEventLoop(signal);
    parsed.roadmap = parseRoadmap(roadmap.text, roadmap.file);
  }
  report(`parsing ${ledgerRel}`);
  if (typeof ledger === 'object') {
    await yieldToEventLoop(signal);
    parsed.ledger = parseLedger(ledger.text, ledger.file);
  }
  for (const rel of extras) {
    report(`parsing ${rel}`);
    const doc = await readDocument(root, rel, maxBytes, parsed.diagnostics, signal);
    if (typeof doc !== 'object') continue;
    await yieldToEventLoop(signal);
    parsed.extraRoadmaps.push(parseRoadmap(doc.text, doc.file));
  }
  report('checking SSOT invariants');
  // Deleted ACs go in before the merge so they are capped per file like everything else.
  if (opts.git !== false && typeof ledger === 'object') {
    append(parsed.diagnostics, await findDeletedAcs(root, ledgerRel, { signal, currentText: ledger.text }));
  }
  await yieldToEventLoop(signal);
  return mergeDocuments(parsed);
}

/**
 * Merge parsed documents into one index. Tickets are keyed by id: the primary roadmap's values
 * win, extra roadmaps add their ACs and fill what the primary lacks. Phases are keyed by their
 * `Phase N` label. The ledger is kept as-is, in order (it is the queue).
 */
export function mergeDocuments(parsed: ParsedDocuments): SsotIndex {
  const tickets = new Map<string, Ticket>();
  const phases = new Map<string, Phase>();
  const phaseIds = new Map<string, Set<string>>();
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  const roadmaps = [parsed.roadmap, ...parsed.extraRoadmaps].filter((r): r is RoadmapParse => r !== undefined);
  for (const r of roadmaps) {
    append(diagnostics, r.diagnostics);
    for (const p of r.phases) {
      const key = phaseKey(p.title);
      const existing = phases.get(key);
      if (!existing) {
        phases.set(key, { ...p, ticketIds: [...p.ticketIds] });
        phaseIds.set(key, new Set(p.ticketIds));
        continue;
      }
      const ids = phaseIds.get(key) ?? new Set();
      for (const id of p.ticketIds) {
        if (ids.has(id)) continue;
        ids.add(id);
        existing.ticketIds.push(id);
      }
    }
    for (const t of r.tickets) {
      const existing = tickets.get(t.id);
      if (!existing) {
        tickets.set(t.id, { ...t, acs: [...t.acs] });
        continue;
      }
      append(existing.acs, t.acs);
      if (!existing.title) existing.title = t.title;
      if (!existing.phase && t.phase) existing.phase = t.phase;
      if (existing.rawStatus === '' && existing.status === 'UNKNOWN') {
        existing.status = t.status;
        existing.rawStatus = t.rawStatus;
      }
      if (existing.done === undefined && t.done !== undefined) {
        existing.done = t.done;
        existing.total = t.total;
      }
      if (existing.blockedReason === undefined && t.blockedReason !== undefined) existing.blockedReason = t.blockedReason;
    }
  }
  const ledger = parsed.ledger?.acs ?? [];
  if (parsed.ledger) append(diagnostics, parsed.ledger.diagnostics);
  const base = { phases: [...phases.values()], tickets: [...tickets.values()], ledger };
  append(diagnostics, checkInvariants(base, { hasLedger: parsed.ledger !== undefined }));
  return { ...base, diagnostics: capDiagnostics(diagnostics) };
}

/** SEC-18: at most this many diagnostics per file reach the Problems panel. */
export const MAX_DIAGNOSTICS_PER_FILE = 1000;

/**
 * Keep the first {@link MAX_DIAGNOSTICS_PER_FILE} diagnostics of each file and say how many were
 * dropped: a hostile or broken document must not flood the editor with 100,000 problems.
 */
function capDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const perFile = new Map<string, number>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    const n = (perFile.get(d.file) ?? 0) + 1;
    perFile.set(d.file, n);
    if (n <= MAX_DIAGNOSTICS_PER_FILE) out.push(d);
  }
  for (const [file, n] of perFile) {
    if (n <= MAX_DIAGNOSTICS_PER_FILE) continue;
    out.push({
      file,
      line: 1,
      severity: 'warning',
      code: 'ssot.too-many-problems',
      message: `${n - MAX_DIAGNOSTICS_PER_FILE} more problems in ${file} not shown (first ${MAX_DIAGNOSTICS_PER_FILE} listed)`,
    });
  }
  return out;
}

/** `Phase 3: Validation & Stability (검증/안정성)` → `3`; other titles are their own key. */
function phaseKey(title: string): string {
  const m = /^Phase\s+([^\s:：]+)/i.exec(title);
  return m ? m[1].toUpperCase() : title;
}

function withinCap(doc: SsotDocument, maxBytes: number, diagnostics: Diagnostic[]): boolean {
  // Cheap bound first: UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (doc.text.length * 3 <= maxBytes) return true;
  const bytes = Buffer.byteLength(doc.text, 'utf8');
  if (bytes <= maxBytes) return true;
  diagnostics.push(tooLarge(doc.file, bytes, maxBytes));
  return false;
}

function tooLarge(file: string, bytes: number, maxBytes: number): Diagnostic {
  return {
    file,
    line: 1,
    severity: 'error',
    code: 'ssot.too-large',
    message: `document is ${(bytes / 1048576).toFixed(1)} MiB, over the ${(maxBytes / 1048576).toFixed(1)} MiB limit; not indexed`,
  };
}

/**
 * Read one document under root. `'missing'` when it does not exist; `'skipped'` when it exists but
 * is rejected (too large, not a file, outside root) with a diagnostic.
 */
async function readDocument(
  root: string,
  rel: string,
  maxBytes: number,
  diagnostics: Diagnostic[],
  signal: AbortSignal | undefined,
): Promise<SsotDocument | 'missing' | 'skipped'> {
  signal?.throwIfAborted();
  // SEC-17: roadmap paths pass the one path validator (relative, no `..`, no .git …).
  const problem = checkRepoPath(rel, { protect: false });
  if (problem) throw new FactoryError(`SSOT path ${JSON.stringify(rel)} ${problem.message}`, 'ssot.bad-path');
  const file = rel;
  const abs = path.join(root, rel);
  try {
    // A symlinked document is read only if it stays inside the workspace: an untrusted repository
    // must not turn ~/.ssh/id_rsa into "ticket titles" that end up in a Worker's prompt.
    const link = await fs.lstat(abs);
    if (link.isSymbolicLink()) {
      const [real, realRoot] = await Promise.all([fs.realpath(abs), fs.realpath(root)]);
      const inside = path.relative(realRoot, real);
      if (inside.startsWith('..') || path.isAbsolute(inside)) {
        diagnostics.push({ file, line: 1, severity: 'error', code: 'ssot.outside-workspace', message: `${file} is a symlink to a file outside the workspace; not indexed` });
        return 'skipped';
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
  const handle = await fs.open(abs, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      diagnostics.push({ file, line: 1, severity: 'error', code: 'ssot.not-a-file', message: `${file} is not a regular file; not indexed` });
      return 'skipped';
    }
    if (stat.size > maxBytes) {
      diagnostics.push(tooLarge(file, stat.size, maxBytes));
      return 'skipped';
    }
    // Read at most maxBytes + 1 from the open file: it may have grown since fstat.
    const buf = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) {
        // It grew while we read it: either past the cap, or it is being saved right now (the save
        // triggers the next index).
        diagnostics.push(
          n > maxBytes
            ? tooLarge(file, n, maxBytes)
            : { file, line: 1, severity: 'warning', code: 'ssot.changed-while-reading', message: `${file} changed while it was read; not indexed this time` },
        );
        return 'skipped';
      }
    }
    return { file, text: buf.toString('utf8', 0, n) };
  } finally {
    await handle.close();
  }
}

function yieldToEventLoop(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      else resolve();
    });
  });
}
