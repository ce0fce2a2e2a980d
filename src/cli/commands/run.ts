import type { Command } from 'commander';
import * as path from 'node:path';
import type { CycleEvent, CycleOutcome } from '../../core/cycle/orchestrator';
import { runCommand, stderrLogger } from '../io';

interface RunOptions {
  root: string;
  ticket?: string;
  agent?: string;
  model?: string;
  replay?: string;
  maxCycles: string;
  parallel?: string;
  batchBudget?: string;
  json?: boolean;
  image?: string;
  verbose?: boolean;
  acceptRedBaseline?: boolean;
  feedback?: string;
  compare?: string;
  pick?: string;
  unblock?: boolean;
}

/** The per-cycle line of `factory run --json` (one JSON object per line, as each cycle ends). */
export function cycleJson(o: CycleOutcome): Record<string, unknown> {
  return {
    runId: o.runId,
    ticketId: o.ticketId,
    acIds: o.acIds,
    status: o.status,
    costUsd: o.costUsd,
    evidencePath: o.evidencePath,
    commit: o.commit,
    blocked: o.blocked,
    escalated: o.escalated,
    audit: o.audit,
    reasons: o.reasons,
    changes: o.changes,
    violations: o.violations,
    stagingKept: o.stagingKept,
    ...(o.baseline ? { baseline: o.baseline } : {}),
    timings: o.timings,
  };
}

/** One human line per cycle. */
export function cycleLine(o: CycleOutcome): string {
  const head = `${o.status.padEnd(7)} ${o.ticketId} (${o.acIds.join(', ')})  run ${o.runId}  $${o.costUsd.toFixed(4)}  ${(o.timings.totalMs / 1000).toFixed(1)}s`;
  const tail = [
    o.commit ? `  commit ${o.commit.slice(0, 7)}, evidence ${o.evidencePath ?? '-'}` : '',
    o.escalated ? `  escalated: Auditor ${o.audit ? o.audit.verdict : 'not run'}${o.audit ? ` (${o.audit.report})` : ''}` : o.audit ? `  Auditor ${o.audit.verdict} (${o.audit.report})` : '',
    ...o.reasons.map((r) => `  - ${r}`),
    o.stagingKept ? `  staging copy kept for inspection: ${o.stagingKept} (the agent's log and prompt in agent/)` : '',
  ].filter(Boolean);
  return [head, ...tail].join('\n') + '\n';
}

/** A positive number of USD for --batch-budget, or a `usage` error naming the flag and the value. */
async function batchBudget(value: string | undefined): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    const { FactoryError } = await import('../../core/util/errors');
    throw new FactoryError(`--batch-budget must be a positive number of USD, got "${value}"`, 'usage');
  }
  return n;
}

/** --parallel N: an integer from 1 to 16, or a `usage` error naming the flag and the value. */
async function parallelCount(value: string): Promise<number> {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 16) {
    const { FactoryError } = await import('../../core/util/errors');
    throw new FactoryError(`--parallel must be an integer from 1 to 16, got "${value}"`, 'usage');
  }
  return n;
}

/** The stderr lines of `factory run` (none with --json but the scope fallback). */
async function eventPrinter(opts: RunOptions): Promise<(e: CycleEvent) => void> {
  const { scopeFallbackLine } = await import('../../core/plan/scope/explain');
  const { baselineLine } = await import('../../core/cycle/baseline');
  return (e: CycleEvent) => {
    // A plan that fell back to the config default is said loudly, beside --json too (stderr).
    const fallback = e.type === 'plan' ? scopeFallbackLine(e.plan) : undefined;
    if (fallback && e.type === 'plan') process.stderr.write(`[${e.plan.run_id}] ${fallback}\n`);
    if (opts.json) return;
    if (e.type === 'phase') process.stderr.write(`[${e.runId}] ${e.phase}\n`);
    // -v logs the same line as [info].
    else if (e.type === 'baseline' && !opts.verbose) process.stderr.write(`${baselineLine(e.report)}\n`);
    else if (e.type === 'recovered') for (const a of e.recovery.actions) process.stderr.write(`[recovery] ${a}\n`);
    else if (e.type === 'output' && opts.verbose) process.stderr.write(e.text);
    else if (e.type === 'waiting') process.stderr.write(`[${e.ticketId}] waiting: ${e.reason}\n`);
    else if (e.type === 'merge') process.stderr.write(`[${e.runId}] merge ${e.step} on ${e.head.slice(0, 7)}\n`);
    else if (e.type === 'requeued') process.stderr.write(`[${e.runId}] requeued: ${e.reason}\n`);
  };
}

/**
 * `factory run [--ticket T] [--parallel N] [--batch-budget USD] [--agent A] [--model M] [--replay DIR]
 * [--max-cycles N] [--feedback FILE] [--json]`: run PDCA cycles (spec `just factory_run`). Without --ticket each cycle
 * takes the queue's next ticket; with --parallel N up to N cycles run at once on disjoint scopes
 * (an overlapping ticket waits), each PASS integrated onto the current HEAD and committed one at a
 * time; with --ticket the same ticket is retried, one cycle at a time, until it PASSes, is BLOCKED
 * or N cycles ran. Exit 0 when every cycle PASSed (or the queue is empty), 1 when one did not, 2
 * on bad input, 3 when another Controller holds the repo. Before the first cycle the baseline
 * (spec §8-3: Gate and DocOps on HEAD) must be green, or accepted with --accept-red-baseline.
 */
export function register(program: Command): void {
  program
    .command('run')
    .description('Run PDCA cycles: plan → Worker in the sandbox → Gate/Auditor → apply, record, commit')
    .option('--root <dir>', 'workspace root (a git repository)', process.cwd())
    .option('--ticket <id>', 'work on this ticket instead of the queue\'s next one')
    .option('--agent <name>', 'Worker agent override (claude-code, codex, gemini, aider, custom, replay); default: the routing table picks by risk')
    .option('--model <id>', 'Worker model override (default: the routing table, or the overriding agent\'s configured model)')
    .option('--replay <dir>', 'recordings for the replay agent: DIR/<TICKET>.json (and <TICKET>.audit.json)')
    .option('--max-cycles <n>', 'stop after this many cycles', '1')
    .option('--parallel <n>', 'cycles in flight at once, on disjoint scopes (1-16); default 1, on the swarm backend its capacity')
    .option('--batch-budget <usd>', 'cap the whole run\'s spend: no cycle starts that could take it past USD')
    .option('--image <image>', 'Worker/Gate image override')
    .option('--accept-red-baseline', 'start although the Gate or DocOps fails on HEAD before any change; those failures are not held against the Worker')
    .option('--feedback <file>', 'review comments for the ticket\'s next attempt: JSON (ticket_id, comment, line_comments) or text where "path:line: text" lines comment on a line')
    .option('--unblock', 'retry a BLOCKED --ticket: back to OPEN (own commit, the kill switches count afresh); why it was blocked becomes its Worker\'s feedback')
    .option('--compare <a,b>', 'run the ticket\'s plan on two agents side by side (each agent or agent:model) and apply one; each side may spend the full cycle budget')
    .option('--pick <auto|ask>', 'with --compare: ask on the terminal which side to apply, or auto: the cheaper passing side', 'ask')
    .option('--json', 'print one JSON object per cycle (one line each)')
    .option('-v, --verbose', 'log each step to stderr')
    .action(async (opts: RunOptions) => {
      await runCommand(async (signal) => {
        const { FactoryError } = await import('../../core/util/errors');
        const max = Number(opts.maxCycles);
        if (!Number.isInteger(max) || max < 1) throw new FactoryError(`--max-cycles must be a positive integer, got "${opts.maxCycles}"`, 'usage');
        const parallel = opts.parallel === undefined ? undefined : await parallelCount(opts.parallel);
        const batchBudgetUsd = await batchBudget(opts.batchBudget);
        // --feedback FILE: "Request changes" for the ticket's next attempt; its ticket is the run's.
        const feedback = opts.feedback ? (await import('../../core/cycle/feedback-file')).readFeedbackFile(opts.feedback, opts.ticket ? { ticket: opts.ticket } : {}) : undefined;
        const ticket = feedback?.ticket_id ?? opts.ticket;
        const { runFactory } = await import('../../core/cycle/parallel/run-factory');
        const root = path.resolve(opts.root);
        const logger = stderrLogger(opts.verbose ?? false);
        // --unblock (issue 20): lift the block first; unless --feedback says otherwise, why it was blocked is the Worker's feedback.
        const retry = opts.unblock ? await (await import('../../core/cycle/unblock')).unblockForRetry({ root, ticket: ticket ?? '', by: 'factory run --unblock', retry: { ...(opts.agent ? { agent: opts.agent } : {}), ...(opts.model ? { model: opts.model } : {}) }, logger, signal }) : undefined;
        if (retry) logger.info(retry.unblock.changed ? `${retry.unblock.ticketId}: ${retry.unblock.from} → ${retry.unblock.to}${retry.unblock.commit ? ` (commit ${retry.unblock.commit.slice(0, 7)})` : ''}` : `${retry.unblock.ticketId} is not BLOCKED (${retry.unblock.from}): nothing to unblock`);
        const print = await eventPrinter(opts);
        // --compare A,B (issue 20): one cycle on two agents, one applied; its table is printed at the end (compare-output.ts).
        const compare = opts.compare ? await (await import('../compare-output')).compareCli(opts.compare, opts.pick ?? 'ask', { json: opts.json ?? false, line: cycleLine, jsonOf: cycleJson, signal }) : undefined;
        let failed = false;
        // One line per cycle as it ends (several cycles may be in flight).
        const onEvent = (e: CycleEvent) => {
          print(e);
          if (e.type !== 'end' || compare) return;
          if (opts.json) process.stdout.write(JSON.stringify(cycleJson(e.outcome)) + '\n');
          else process.stdout.write(cycleLine(e.outcome));
          if (e.outcome.status !== 'PASS') failed = true;
        };
        const result = await runFactory(
          {
            root,
            ...(parallel !== undefined ? { parallel } : {}),
            maxCycles: max,
            ...(batchBudgetUsd !== undefined ? { batchBudgetUsd } : {}),
            ...(opts.acceptRedBaseline ? { acceptRedBaseline: true } : {}),
            ...(ticket ? { ticket } : {}),
            ...(feedback ? { feedback } : retry?.feedback ? { feedback: retry.feedback } : {}),
            ...(opts.agent ? { agent: opts.agent } : {}),
            ...(opts.model ? { model: opts.model } : {}),
            ...(opts.replay ? { replayDir: path.resolve(opts.replay) } : {}),
            ...(opts.image ? { image: opts.image } : {}),
            ...(compare ? { compare: compare.compare } : {}),
          },
          { logger, signal, onEvent, ...(compare?.pickCandidate ? { pickCandidate: compare.pickCandidate } : {}) },
        );
        if (compare) return compare.report(result);
        // Why the run stopped, when there is something to say (an empty queue, the ticket done, the batch budget).
        if (result.message && !opts.json) process.stdout.write(`${result.message}\n`);
        return failed ? 1 : 0;
      });
    });
}
