/**
 * A BLOCKED ticket back in the queue for a retry (issue 20 "BLOCKED is not a dead end"): the
 * roadmap cell `BLOCKED (reason)` → the status the ticket's ACs say (OPEN, or PARTIAL when some
 * are DONE), one history line, one commit of its own — under the repo lock, so it never races a
 * cycle.
 *
 * "Afresh": the kill switches (kill-switches.ts) count a ticket's failed attempts back to its last
 * PASS or BLOCKED line. A ticket the kill switch blocked has such a line already, but one blocked by
 * the time cap (status TIMEOUT) or set BLOCKED by hand has not: without a line of its own the
 * retry would be blocked again at PLAN. So the unblock always appends a line with status BLOCKED
 * (cause BLOCKED: not an attempt) and `unblocked` saying who lifted it — the point the counts restart
 * from. Cost 0, no evidence.
 *
 * Its own commit (not the retry's): the retry's cycle starts from a clean tree (clean-start.ts
 * refuses an edited roadmap), and the person's decision stays in git even when the retry is never
 * run or crashes. Without `git.commit` the edit is left for the person to commit, like a BLOCKED one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigStrict } from '../config/load';
import type { FactoryConfig } from '../config/schema';
import type { ReviewFeedback } from '../contracts/review-feedback';
import { appendHistory } from '../history/history';
import type { Status, Ticket } from '../ssot/model';
import { indexWorkspace } from '../ssot/workspace';
import { editDocument, setTicketStatus } from '../ssot/writer';
import { FactoryError } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { blockedTickets, retryFeedback } from './blocked-summary';
import { takeCycleLock } from './cycle-lock';
import { rel } from './cycle-context';
import { cyclePaths } from './cycle-paths';
import { commitPaths } from './git-ops';

export interface UnblockRequest {
  root: string;
  config: FactoryConfig;
  ticket: string;
  /** Who lifted the block, in words (history and the commit): "the editor's Retry …", "factory run --unblock". */
  by: string;
  /** The Worker the retry is meant to run on (recorded only). */
  retry?: { agent?: string; model?: string };
  now?: () => Date;
  signal?: AbortSignal;
  logger?: Logger;
  /** Take the repo lock for the edit (default). False only for a caller that holds it already. */
  lock?: boolean;
}

export interface UnblockResult {
  ticketId: string;
  /** False: the ticket was not BLOCKED (nothing written). */
  changed: boolean;
  /** The roadmap's status before (raw cell text, e.g. `BLOCKED (retry cap: 3 failed attempts (cap 3))`). */
  from: string;
  /** The status written (OPEN or PARTIAL); the old one when nothing changed. */
  to: string;
  /** The reason the roadmap gave for the block, when it gave one. */
  reason: string | null;
  /** The unblock's commit (null: `git.commit` off, or nothing changed). */
  commit: string | null;
  /** The history line's run id (null when nothing changed). */
  historyRunId: string | null;
}

/** What a BLOCKED ticket goes back to: PARTIAL when some of its ACs are DONE, else OPEN. */
export function reopenStatus(ticket: Pick<Ticket, 'done' | 'total' | 'acs'>, ledgerDone: number): Extract<Status, 'OPEN' | 'PARTIAL'> {
  const done = ticket.done ?? Math.max(ledgerDone, ticket.acs.filter((a) => a.status === 'DONE').length);
  return done > 0 ? 'PARTIAL' : 'OPEN';
}

/** The history line's run id: `unblock_<UTC stamp>_<ticket>` (never an evidence folder's name). */
export function unblockRunId(ticket: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  return `unblock_${stamp}_${ticket.replace(/[^\w-]/g, '_').slice(0, 100)}`;
}

/**
 * Put BLOCKED ticket `req.ticket` back in the queue (see the module comment). Not BLOCKED → a
 * result with `changed: false`, nothing written.
 * @throws FactoryError `plan.unknown-ticket` when the roadmap has no such ticket; `locked` when a
 * Controller runs here; the writer's `ssot.*` codes when the cell cannot be edited.
 */
export async function unblockTicket(req: UnblockRequest): Promise<UnblockResult> {
  const log = req.logger ?? nullLogger;
  const lock = req.lock === false ? undefined : await takeCycleLock(req.root, req.config, {}, log);
  try {
    return await unblockLocked(req, log);
  } finally {
    await lock?.release();
  }
}

async function unblockLocked(req: UnblockRequest, log: Logger): Promise<UnblockResult> {
  const { root, config, ticket: id } = req;
  const index = await indexWorkspace(root, config, { git: false, ...(req.signal ? { signal: req.signal } : {}) });
  const ticket = index.tickets.find((t) => t.id === id);
  if (!ticket) throw new FactoryError(`unknown ticket ${id}: it is not in ${config.ssot.roadmap}`, 'plan.unknown-ticket');
  const reason = ticket.blockedReason ?? null;
  if (ticket.status !== 'BLOCKED') return { ticketId: id, changed: false, from: ticket.rawStatus, to: ticket.rawStatus, reason, commit: null, historyRunId: null };
  const to = reopenStatus(ticket, index.ledger.filter((a) => a.ticketId === id && a.status === 'DONE').length);
  const roadmap = path.join(root, config.ssot.roadmap);
  await editDocument(roadmap, (text) => setTicketStatus(text, id, { status: to }));
  const now = (req.now ?? (() => new Date()))();
  const paths = cyclePaths(root, config);
  const runId = unblockRunId(id, now);
  const retry = req.retry?.agent || req.retry?.model ? ` for a retry on ${[req.retry.agent, req.retry.model].filter(Boolean).join(' / ')}` : ' for a retry';
  await fs.promises.mkdir(paths.autopilot, { recursive: true });
  await appendHistory(paths.history, {
    runId,
    ticketId: id,
    status: 'BLOCKED',
    cause: 'BLOCKED',
    endedAt: now.toISOString(),
    costUsd: 0,
    reasons: [`unblocked by ${req.by}${retry} (was ${ticket.rawStatus}); the retry counts afresh`],
    unblocked: { by: req.by, from: ticket.rawStatus, to, ...(reason ? { reason } : {}), ...(req.retry?.agent ? { agent: req.retry.agent } : {}), ...(req.retry?.model ? { model: req.retry.model } : {}) },
  });
  log.info(`${id}: ${ticket.rawStatus} → ${to} (unblocked by ${req.by})`);
  let commit: string | null = null;
  if (config.git.commit) {
    const message = `factory: ${id} unblocked${retry}\n\n${id} was ${ticket.rawStatus}; ${req.by} put it back in the queue as ${to}.\nThe kill switches count its attempts afresh from here (history line ${runId}).\n`;
    commit = await commitPaths(root, [config.ssot.roadmap, rel(root, paths.history)], message, req.signal);
  }
  return { ticketId: id, changed: true, from: ticket.rawStatus, to, reason, commit, historyRunId: runId };
}

/** What a retry of a BLOCKED ticket starts from: the unblock, and the feedback for its Worker. */
export interface RetryStart {
  unblock: UnblockResult;
  /** Why it was blocked (blocked-summary.ts) as review feedback; null when the ticket was not BLOCKED. */
  feedback: ReviewFeedback | null;
}

/**
 * `factory run --ticket T --unblock` (and the editor's "Retry with another agent/model"): read why
 * T is blocked BEFORE lifting the block (the history line the unblock writes ends that story),
 * unblock it, and return the summary as the retry's feedback.
 * @throws FactoryError `usage` without a ticket; see {@link unblockTicket}.
 */
export async function unblockForRetry(req: Omit<UnblockRequest, 'config'> & { config?: FactoryConfig }): Promise<RetryStart> {
  if (!req.ticket) throw new FactoryError('--unblock needs --ticket: name the BLOCKED ticket to retry', 'usage');
  const config = req.config ?? (await loadConfigStrict(req.root)).config;
  const index = await indexWorkspace(req.root, config, { git: false, ...(req.signal ? { signal: req.signal } : {}) });
  const summary = blockedTickets(req.root, config, index.tickets.filter((t) => t.id === req.ticket))[0];
  const unblock = await unblockTicket({ ...req, config });
  const feedback = summary && unblock.changed ? retryFeedback(summary, { ...req.retry, ...(req.now ? { now: req.now() } : {}) }) : null;
  return { unblock, feedback };
}
