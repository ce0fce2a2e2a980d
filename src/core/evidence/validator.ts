import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import {
  ERROR_LOG_FILE,
  MANIFEST_FILE,
  PNL_FILE,
  REQUIRED_FILES,
  gitInfoSchema,
  kpiSchema,
  manifestSchema,
  pnlBreakdownSchema,
  pnlProblems,
  type EvidenceManifest,
} from './evidence-format';
import { RUN_ID_RE } from './run-id';
import { isProfitTicket } from './writer';

export type EvidenceProblemCode = 'missing' | 'empty' | 'malformed' | 'hash-mismatch' | 'unlisted' | 'not-a-file' | 'bad-run-id' | 'pnl-mismatch';

export interface EvidenceProblem {
  /** Path relative to the run folder (`.` for the folder itself). */
  file: string;
  code: EvidenceProblemCode;
  message: string;
}

export interface EvidenceCheck {
  runId: string;
  dir: string;
  valid: boolean;
  problems: EvidenceProblem[];
  manifest?: EvidenceManifest;
}

export interface ValidateOptions {
  /** Ticket globs whose runs must carry pnl_breakdown.json, whatever their manifest says. */
  profitTickets?: string[];
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;

function zodMessage(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Reads a file of the run without following symlinks: an evidence file that is a link (to
 * /etc/passwd, to another run) is a problem, never content.
 */
function readRegular(dir: string, rel: string, problems: EvidenceProblem[]): Buffer | undefined {
  const abs = path.join(dir, ...rel.split('/'));
  let st: fs.Stats;
  try {
    st = fs.lstatSync(abs);
  } catch {
    problems.push({ file: rel, code: 'missing', message: `${rel} is missing` });
    return undefined;
  }
  if (!st.isFile()) {
    problems.push({ file: rel, code: 'not-a-file', message: `${rel} is not a regular file` });
    return undefined;
  }
  if (st.size === 0) {
    problems.push({ file: rel, code: 'empty', message: `${rel} is empty` });
    return undefined;
  }
  if (rel.endsWith('.json') && st.size > MAX_JSON_BYTES) {
    problems.push({ file: rel, code: 'malformed', message: `${rel} is larger than ${MAX_JSON_BYTES} bytes` });
    return undefined;
  }
  return fs.readFileSync(abs);
}

function parseJson(rel: string, data: Buffer, problems: EvidenceProblem[]): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    problems.push({ file: rel, code: 'malformed', message: `${rel} is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(path.join(dir, ...rel.split('/').filter(Boolean)), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

/**
 * Checks one evidence run: the folder name is a run id; manifest.json parses and names this run;
 * every required file (plus pnl_breakdown.json for a PASS of a profit ticket, error.log for any
 * run that is not a PASS) exists, is a non-empty regular
 * file and, for JSON, has the right shape; gate.log has its banners and a Status line; every file
 * the manifest lists has the listed sha256 and size; and no file exists that the manifest does not
 * list. Reports every problem, not just the first.
 */
export function validateEvidence(dir: string, opts: ValidateOptions = {}): EvidenceCheck {
  const runId = path.basename(dir);
  const problems: EvidenceProblem[] = [];
  const result = (manifest?: EvidenceManifest): EvidenceCheck => ({ runId, dir, valid: problems.length === 0, problems, ...(manifest ? { manifest } : {}) });

  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    problems.push({ file: '.', code: 'missing', message: `evidence run ${runId} does not exist` });
    return result();
  }
  if (!st.isDirectory()) {
    problems.push({ file: '.', code: 'not-a-file', message: `${runId} is not a directory` });
    return result();
  }
  if (!RUN_ID_RE.test(runId)) {
    problems.push({ file: '.', code: 'bad-run-id', message: `folder name ${runId} is not a run id (YYYYMMDD_HHMMSS_<label>_<hash7>)` });
  }

  const manifest = readManifest(dir, runId, problems);

  const profit = manifest?.profit_related === true || (manifest !== undefined && isProfitTicket(manifest.ticket_id, opts.profitTickets ?? []));
  // A profit ticket's PASS must show its PnL; a FAIL run records the failure without one.
  const needsPnl = profit && manifest?.status === 'PASS';
  const required: string[] = [...REQUIRED_FILES, ...(needsPnl ? [PNL_FILE] : []), ...(manifest && manifest.status !== 'PASS' ? [ERROR_LOG_FILE] : [])];
  const listed = new Map((manifest?.files ?? []).map((f) => [f.path, f]));
  const contents = new Map<string, Buffer>();

  for (const rel of required) {
    const data = readRegular(dir, rel, problems);
    if (!data) continue;
    contents.set(rel, data);
    if (manifest && !listed.has(rel)) problems.push({ file: rel, code: 'unlisted', message: `${rel} is not listed in manifest.json` });
    checkShape(rel, data, problems);
  }

  if (manifest) checkAgainstManifest(dir, manifest, required, contents, problems);
  checkPnl(dir, required, contents, problems);
  return result(manifest);
}

/** manifest.json, parsed, when it is readable, valid and names this run (problems recorded otherwise). */
function readManifest(dir: string, runId: string, problems: EvidenceProblem[]): EvidenceManifest | undefined {
  const raw = readRegular(dir, MANIFEST_FILE, problems);
  if (!raw) return undefined;
  const json = parseJson(MANIFEST_FILE, raw, problems);
  if (json === undefined) return undefined;
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    problems.push({ file: MANIFEST_FILE, code: 'malformed', message: `manifest.json: ${zodMessage(parsed.error)}` });
    return undefined;
  }
  const manifest = parsed.data;
  if (manifest.run_id !== runId) {
    problems.push({ file: MANIFEST_FILE, code: 'malformed', message: `manifest.json names run ${manifest.run_id}, folder is ${runId}` });
  }
  return manifest;
}

/** The shape of one required file: its JSON schema, or gate.log's banners and Status line. */
function checkShape(rel: string, data: Buffer, problems: EvidenceProblem[]): void {
  const schema = rel === 'kpi.json' ? kpiSchema : rel === 'git_info.json' ? gitInfoSchema : rel === PNL_FILE ? pnlBreakdownSchema : undefined;
  if (schema) {
    const json = parseJson(rel, data, problems);
    if (json !== undefined) {
      const parsed = schema.safeParse(json);
      if (!parsed.success) problems.push({ file: rel, code: 'malformed', message: `${rel}: ${zodMessage(parsed.error)}` });
    }
  } else if (rel === 'gate.log') {
    const text = data.toString('utf8');
    if (!/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] /.test(text) || !/\] Status: .+/.test(text)) {
      problems.push({ file: rel, code: 'malformed', message: 'gate.log has no timestamped lines or no final Status line' });
    }
  }
}

/**
 * pnl_breakdown.json, wherever present: its schema, gross − fees − slippage = net, and the net the
 * KPI states (within rounding). A required one was shape-checked already.
 */
function checkPnl(dir: string, required: readonly string[], contents: ReadonlyMap<string, Buffer>, problems: EvidenceProblem[]): void {
  let data = contents.get(PNL_FILE);
  if (!data && !required.includes(PNL_FILE)) {
    if (!fs.existsSync(path.join(dir, PNL_FILE))) return;
    const shapeProblems: EvidenceProblem[] = [];
    data = readRegular(dir, PNL_FILE, shapeProblems);
    if (data) checkShape(PNL_FILE, data, shapeProblems);
    problems.push(...shapeProblems.filter((p) => p.code !== 'missing'));
    if (shapeProblems.length) return;
  }
  if (!data) return;
  const pnl = pnlBreakdownSchema.safeParse(safeJson(data));
  if (!pnl.success) return; // reported by the shape check
  const kpiJson = contents.get('kpi.json');
  const kpi = kpiJson ? safeJson(kpiJson) : undefined;
  const kpiRecord = kpi && typeof kpi === 'object' && !Array.isArray(kpi) ? (kpi as Record<string, unknown>) : undefined;
  for (const message of pnlProblems(pnl.data, kpiRecord)) problems.push({ file: PNL_FILE, code: 'pnl-mismatch', message });
}

function safeJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Every listed file has its listed sha256 and size, and no unlisted file is in the folder. */
function checkAgainstManifest(
  dir: string,
  manifest: EvidenceManifest,
  required: readonly string[],
  contents: ReadonlyMap<string, Buffer>,
  problems: EvidenceProblem[],
): void {
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const entry of manifest.files) {
    let data = contents.get(entry.path);
    if (!data) {
      if (required.includes(entry.path)) continue; // already reported above
      data = readRegular(dir, entry.path, problems);
      if (!data) continue;
    }
    const hash = createHash('sha256').update(data).digest('hex');
    if (hash !== entry.sha256 || data.length !== entry.bytes) {
      problems.push({ file: entry.path, code: 'hash-mismatch', message: `${entry.path} was changed after the run (sha256 ${hash.slice(0, 12)}…, manifest says ${entry.sha256.slice(0, 12)}…)` });
    }
  }
  for (const rel of listFiles(dir)) {
    if (rel === MANIFEST_FILE || listed.has(rel)) continue;
    if (!required.includes(rel)) problems.push({ file: rel, code: 'unlisted', message: `${rel} is not listed in manifest.json` });
  }
}
