/**
 * Run ids in the evidence spec's format (EVIDENCE_FORMAT.md "Run ID 규칙"):
 * `YYYYMMDD_HHMMSS_<d-number>_<short_hash>`, e.g. `20251229_023000_d200_2_48b14fe` or
 * `20251229_030000_gate_doctor_f5e6d7c`. The time is the run's start; the label is the ticket (or
 * `gate_<stage>`) lower-cased with every other character folded to `_`; the hash is the git commit
 * the run started from (7 hex digits; `0000000` outside a git repository).
 */

export const RUN_ID_RE = /^(\d{8})_(\d{6})_([a-z0-9]+(?:_[a-z0-9]+)*)_([0-9a-f]{7})$/;

export interface RunIdParts {
  /** Start time (whole seconds). */
  time: Date;
  label: string;
  shortHash: string;
}

/** `D_ALPHA-PIPELINE-0` → `d_alpha_pipeline_0`; `D200-2` → `d200_2`. */
export function runLabel(ticketOrTask: string): string {
  const label = ticketOrTask
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60)
    .replace(/_+$/, '');
  return label || 'run';
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/**
 * Formats a run id. `utcOffsetMinutes` shifts the wall clock the id shows (the spec's project used
 * UTC+9); the default is UTC so ids sort the same on every machine.
 */
export function formatRunId(time: Date, ticketOrTask: string, commit: string | undefined, utcOffsetMinutes = 0): string {
  const t = new Date(time.getTime() + utcOffsetMinutes * 60_000);
  const date = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}`;
  const clock = `${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}`;
  const hash = commit && /^[0-9a-f]{7,}$/i.test(commit) ? commit.slice(0, 7).toLowerCase() : '0000000';
  return `${date}_${clock}_${runLabel(ticketOrTask)}_${hash}`;
}

/** Splits a run id, or undefined when it is not one (any other folder under logs/evidence). */
export function parseRunId(id: string, utcOffsetMinutes = 0): RunIdParts | undefined {
  const m = RUN_ID_RE.exec(id);
  if (!m) return undefined;
  const d = m[1];
  const c = m[2];
  const ms = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +c.slice(0, 2), +c.slice(2, 4), +c.slice(4, 6));
  if (Number.isNaN(ms)) return undefined;
  return { time: new Date(ms - utcOffsetMinutes * 60_000), label: m[3], shortHash: m[4] };
}
