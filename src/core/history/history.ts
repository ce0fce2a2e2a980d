import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyEntrySchema, parseHistoryEntry, type HistoryEntry, type HistoryLine } from '../contracts/history-entry';
import { atomicWrite } from '../util/atomic-write';

/** The hash of the (virtual) line before the first one. */
export const GENESIS = '0'.repeat(64);

/**
 * What a writer hands to `appendHistory`: a history entry (contracts/history-entry.ts). The
 * runId/ticketId/status floor stays loose until every writer builds a typed `HistoryEntry`.
 */

export type { HistoryEntry, HistoryLine };

export interface HistoryProblem {
  /** 1-based line number. */
  line: number;
  kind: 'truncated' | 'malformed' | 'broken-chain' | 'tampered';
  message: string;
}

export interface HistoryRead {
  records: HistoryLine[];
  problems: HistoryProblem[];
  /** Hash of the last good line (what the next line must chain to). */
  head: string;
}

/** JSON with keys sorted at every level, so the hash does not depend on key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** hash = sha256(prev_hash + canonical(record without hash)). */
export function lineHash(record: Record<string, unknown>, prevHash: string): string {
  const { hash: _drop, ...rest } = record;
  return crypto.createHash('sha256').update(prevHash).update(canonical({ ...rest, prev_hash: prevHash })).digest('hex');
}

/**
 * Read history.jsonl and verify its hash chain (SECURITY 28). A last line without its newline
 * that does not parse is `truncated` (a crash mid-append; `repairHistory` drops it). An earlier
 * line that was edited no longer matches its hash (`tampered`); one whose `prev_hash` does not
 * name the line before is `broken-chain` (a line deleted or reordered). Never throws on content.
 */
export function readHistory(file: string): HistoryRead {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [], head: GENESIS };
    throw err;
  }
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  const records: HistoryLine[] = [];
  const problems: HistoryProblem[] = [];
  let head = GENESIS;
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    const isLast = i === lines.length - 1;
    let parsed: { hash: string; prev_hash: string } & Record<string, unknown>;
    try {
      parsed = JSON.parse(raw) as typeof parsed;
      if (!parsed || typeof parsed !== 'object' || typeof parsed.hash !== 'string' || typeof parsed.prev_hash !== 'string') throw new Error('not a history record');
    } catch (err) {
      problems.push(
        isLast && !endsWithNewline
          ? { line: i + 1, kind: 'truncated', message: 'the last line is incomplete (interrupted write)' }
          : { line: i + 1, kind: 'malformed', message: `not a history record: ${(err as Error).message}` },
      );
      continue;
    }
    if (parsed.prev_hash !== head) {
      problems.push({ line: i + 1, kind: 'broken-chain', message: `prev_hash does not match the line before (a line was removed, inserted or reordered)` });
    } else if (lineHash(parsed, parsed.prev_hash) !== parsed.hash) {
      problems.push({ line: i + 1, kind: 'tampered', message: 'the line was edited after it was written (hash mismatch)' });
    }
    // The chain covers the line as written; readers get it as an entry (odd fields dropped).
    const entry = parseHistoryEntry(parsed);
    if (entry) records.push({ ...entry, prev_hash: parsed.prev_hash, hash: parsed.hash });
    else problems.push({ line: i + 1, kind: 'malformed', message: 'not a history entry (runId, ticketId or status missing or invalid)' });
    head = parsed.hash;
  }
  return { records, problems, head };
}

/**
 * Drop a truncated last line (and only that), atomically. Returns true when something was
 * repaired. Any other problem is left for a person to look at.
 */
export async function repairHistory(file: string): Promise<boolean> {
  const { problems } = readHistory(file);
  const truncated = problems.find((p) => p.kind === 'truncated');
  if (!truncated) return false;
  const text = fs.readFileSync(file, 'utf8');
  const cut = text.lastIndexOf('\n') + 1;
  await atomicWrite(file, text.slice(0, cut));
  return true;
}

/**
 * Append one record, chained to the last good line. The whole file is rewritten atomically
 * (SECURITY 26), so a crash leaves the old or the new history, never half a line. A truncated
 * last line is repaired first.
 */
export async function appendHistory(file: string, record: HistoryEntry): Promise<HistoryLine> {
  // The writer is held to the same schema the readers parse with: a malformed entry is a bug here.
  historyEntrySchema.parse(record);
  await repairHistory(file);
  const { head } = readHistory(file);
  const { hash: _h, prev_hash: _p, ...clean } = record as HistoryEntry & { hash?: unknown; prev_hash?: unknown };
  const line = { ...clean, prev_hash: head } as HistoryLine;
  line.hash = lineHash(line, head);
  let existing = '';
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }
  if (existing && !existing.endsWith('\n')) existing += '\n';
  await atomicWrite(file, existing + JSON.stringify(line) + '\n');
  return line;
}
