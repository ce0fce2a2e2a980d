/**
 * DocOps on the adjusted documents (spec §8-3, issue 17 item 3): once ADJUST has applied a PASS's
 * changeset, set the ledger and roadmap cells and written the evidence — before the history line
 * says PASS and before anything is committed — the checks of `factory docops` run on the host
 * tree as it now is. A FAIL forbids the commit: act.ts rolls ADJUST back and records the cycle FAIL
 * with the reason built here.
 */
import { docOpsWorkspace } from '../../guards/docops-workspace';
import type { DocOpsReport, GuardFinding, GuardResult } from '../../guards/guard-model';
import { FactoryError } from '../../util/errors';
import type { CycleContext } from '../cycle-context';
import { cycleRecords } from '../cycle-paths';
import type { BaselineReport } from '../cycle-types';
import { evaluateKillSwitches } from '../kill-switches';
import type { Verdict } from '../verdict';

/** At most this many findings per guard are quoted in the reason (the rest counted). */
const QUOTED_FINDINGS = 5;

/** What DocOps found on the adjusted documents. */
export interface AdjustedDocOps {
  status: 'PASS' | 'FAIL';
  durationMs: number;
  report: DocOpsReport;
  /** FAIL: "DocOps FAIL on the adjusted documents: <guard>: <file:line message>; …". */
  reason?: string;
  /** Guards that fail here as they already did on an accepted red baseline: not the Worker's doing. */
  tolerated: string[];
}

const failed = (g: GuardResult): boolean => g.status === 'FAIL' || g.status === 'ERROR' || g.status === 'TIMEOUT';

/**
 * Run DocOps on the host tree as ADJUST left it. Not held against the cycle: a guard that already
 * failed on HEAD's baseline when the user accepted that (`--accept-red-baseline`) — a Worker is
 * never blamed for a failure HEAD already had — and findings only in the Controller's own records
 * other than this run's evidence (history, earlier runs' evidence: a FAIL's evidence quotes the
 * findings it failed on, so one DocOps FAIL would otherwise fail every later cycle). Interrupting
 * (ctx.signal) ends the cycle ABORTED, never FAIL.
 */
export async function docOpsOnAdjusted(ctx: CycleContext, baseline: BaselineReport | undefined): Promise<AdjustedDocOps> {
  const t0 = Date.now();
  const report = await docOpsWorkspace(ctx.root, ctx.config, { logger: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  if (ctx.signal?.aborted) throw new FactoryError('interrupted during DocOps on the adjusted documents', 'interrupted');
  const durationMs = Date.now() - t0;
  const onHead = new Set(baseline?.status === 'red' && baseline.accepted ? baseline.failing.filter((f) => f.kind === 'docops').map((f) => f.name) : []);
  const inRecords = otherRecords(ctx);
  const failing = report.guards.filter(failed).flatMap((g) => {
    const findings = g.findings.filter((f) => !inRecords(f.file));
    // A guard whose every error was in the records has nothing left to say about this cycle.
    return g.findings.length && !findings.some((f) => f.severity === 'error') ? [] : [{ ...g, findings }];
  });
  const blamed = failing.filter((g) => !onHead.has(g.name));
  const tolerated = failing.filter((g) => onHead.has(g.name)).map((g) => g.name);
  if (blamed.length === 0) return { status: 'PASS', durationMs, report, tolerated };
  return { status: 'FAIL', durationMs, report, tolerated, reason: `DocOps FAIL on the adjusted documents: ${blamed.map(describeGuard).join('; ')}` };
}

/** Whether a finding's file is one of the Controller's records other than this run's evidence. */
function otherRecords(ctx: CycleContext): (file: string | undefined) => boolean {
  const dir = (p: string) => `${p.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '')}/`;
  const evidence = dir(ctx.config.paths.evidence);
  const own = `${evidence}${ctx.state.runId}/`;
  const records = [evidence, dir(ctx.config.paths.autopilot)];
  return (file) => file !== undefined && !file.startsWith(own) && records.some((r) => file.startsWith(r));
}

/** `<guard>: <file:line message>, …` (a script guard without findings: its status and last output line). */
function describeGuard(g: GuardResult): string {
  const errors = g.findings.filter((f) => f.severity === 'error');
  const shown = (errors.length ? errors : g.findings).slice(0, QUOTED_FINDINGS).map(describeFinding);
  const more = g.findings.length - shown.length;
  const tail = g.outputTail?.trim().split('\n').at(-1)?.trim();
  const detail = shown.length ? shown.join(', ') : g.status;
  return `${g.name}: ${detail}${more > 0 ? ` (+${more} more)` : ''}${g.source === 'script' && tail ? ` — ${tail}` : ''}`;
}

function describeFinding(f: GuardFinding): string {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''} ` : '';
  return `${where}${f.message}`;
}

/**
 * The verdict of a cycle ADJUST failed after a PASS verdict (DocOps, a conflict): an attempt that
 * FAILed, so it counts toward the retry cap like any FAIL — and when it is the attempt that reaches
 * the cap, the ticket is BLOCKED.
 */
export function failedAdjustVerdict(ctx: CycleContext, ticketId: string, runId: string, reason: string): Verdict {
  // History as PLAN read it: ADJUST was rolled back, so this run has no line yet.
  const attempt = { runId, ticketId, status: 'FAIL' as const, endedAt: '', costUsd: 0 };
  const projected = evaluateKillSwitches([...cycleRecords(ctx.paths.history), attempt], ticketId, ctx.config);
  if (projected.block) return { status: 'BLOCKED', cause: 'FAIL', reasons: [reason], blockReason: projected.reason ?? 'retry cap' };
  return { status: 'FAIL', cause: 'FAIL', reasons: [reason] };
}
