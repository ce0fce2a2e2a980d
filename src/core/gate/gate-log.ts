import { describeCounts } from './test-counts';
import type { GateReport, StepResult } from './gate-model';

/** `2025-12-29 02:30:00` (UTC): the timestamp gate.log lines start with. */
export function logTimestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/** A command as one readable line; arguments with spaces or quotes are quoted. */
export function formatArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const TAIL_LINES = 40;

/**
 * The last `n` lines of an output, with colour codes and other control characters removed: the
 * output is the untrusted project's, and gate.log is read in terminals and the webview.
 */
export function tailLines(output: string, n = TAIL_LINES): string {
  const clean = output
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
  const lines = clean.replace(/\n+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

function resultText(s: StepResult): string {
  const secs = `${(s.durationMs / 1000).toFixed(2)}s`;
  const cached = s.cached ? ', cached' : '';
  if (s.status === 'SKIPPED') return `SKIPPED (${s.reason ?? 'not run'})`;
  const detail: string[] = [];
  if (s.counts) detail.push(describeCounts(s.counts));
  if (s.status !== 'PASS' && s.reason) detail.push(s.reason);
  detail.push(secs);
  return `${s.status} (${detail.join(', ')}${cached})`;
}

/**
 * gate.log in the evidence format (EVIDENCE_FORMAT.md §2): one `[time] ` prefixed line per fact,
 * a blank line between steps, START/END banners and a final `Status:` line. Failed steps also show
 * the failed test names and the tail of their output so a reader needs no other file.
 */
export function renderGateLog(report: Omit<GateReport, 'log'>): string {
  const lines: string[] = [];
  // An empty fact still gets its `[time] ` prefix, as in the evidence spec's example.
  const at = (iso: string, text: string) => lines.push(`[${logTimestamp(new Date(iso))}] ${text}`);
  at(report.startedAt, '===== GATE EXECUTION START =====');
  at(report.startedAt, `Runner: ${report.runner} (${report.runnerIdentity})`);
  at(report.startedAt, `Tree: sha256:${report.treeHash}`);
  if (report.cache) {
    const c = report.cache;
    at(
      report.startedAt,
      c.hit
        ? `Cache: HIT ${c.key.slice(0, 16)} (PASS reused from run ${c.sourceRunId ?? 'unknown'} stored ${c.storedAt ?? '?'}; commands not re-run)`
        : `Cache: MISS ${c.key.slice(0, 16)}`,
    );
  }
  at(report.startedAt, '');
  const steps = [...report.guards, ...report.stages];
  for (const s of steps) {
    at(s.startedAt, `${s.kind === 'guard' ? 'Guard' : 'Gate'}: ${s.name}`);
    at(s.startedAt, `Command: ${formatArgv(s.argv)}`);
    at(s.endedAt, `Result: ${resultText(s)}`);
    if (s.status !== 'PASS' && s.status !== 'SKIPPED') {
      for (const name of s.counts?.failedTests ?? []) at(s.endedAt, `Failed: ${name}`);
      if (s.outputTail) {
        at(s.endedAt, 'Output (tail):');
        for (const l of s.outputTail.split('\n')) at(s.endedAt, `| ${l}`);
      }
    }
    at(s.endedAt, '');
  }
  at(report.endedAt, '===== GATE EXECUTION END =====');
  at(
    report.endedAt,
    report.status === 'PASS' ? 'Status: ALL GATES PASS ✅' : `Status: GATE FAIL ❌ (failed at: ${report.failedAt ?? 'unknown'})`,
  );
  return lines.join('\n') + '\n';
}
