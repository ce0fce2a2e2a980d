/**
 * "Request changes" (issue 20): a person's review feedback on a changeset, carried to the next
 * attempt of the same ticket. The review hook's `{ approved: false, reason, feedback }` FAILs the
 * cycle (it counts toward the retry cap like any FAIL) and leaves the feedback pending in
 * `<ap>/feedback/<ticket>.json`; the ticket's next attempt takes it (or `CycleOptions.feedback`,
 * `factory run --feedback FILE`, which wins), gives it to its Worker (worker-task.json
 * `reviewComments` → the prompt's "Review comments from the previous attempt"), names it in
 * plan.json (`review_feedback`), and consumes it only when it records a verdict: the pending file
 * is renamed `<ticket>.<run_id>.used.json`. A crash or an abort before that keeps it pending.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkerTask } from '../agents/task';
import { readUntrustedJson } from '../contracts/untrusted-json';
import type { Plan } from '../contracts/plan';
import { reviewFeedbackSchema, type ReviewFeedback } from '../contracts/review-feedback';
import { checkRepoPath } from '../paths/validate';
import { atomicWrite } from '../util/atomic-write';
import { FactoryError, errorMessage } from '../util/errors';
import type { Logger } from '../util/log';
import type { CycleOptions, ReviewDecision } from './cycle-types';

/** The feedback an attempt's Worker is given, and where it came from. */
export interface TakenFeedback {
  feedback: ReviewFeedback;
  /** `option`: the caller's (`--feedback`, the BLOCKED hand-off); `pending`: the ticket's stored file. */
  source: 'option' | 'pending';
}

/** The largest pending feedback file read (the schema's caps fit well inside). */
const MAX_FEEDBACK_BYTES = 4 * 1024 * 1024;

/** The file name part for a ticket: the id itself when it is a plain name, else a hash of it. */
function ticketName(ticketId: string): string {
  if (/^[A-Za-z0-9_-]{1,100}$/.test(ticketId)) return ticketId;
  return 't-' + crypto.createHash('sha256').update(ticketId).digest('hex').slice(0, 24);
}

/** `<ap>/feedback/<ticket>.json`: the feedback pending for the ticket's next attempt. */
export function pendingFeedbackFile(feedbackDir: string, ticketId: string): string {
  return path.join(feedbackDir, `${ticketName(ticketId)}.json`);
}

/** Where a pending file goes once the attempt `runId` that took it recorded its verdict. */
export function usedFeedbackFile(feedbackDir: string, ticketId: string, runId: string): string {
  return path.join(feedbackDir, `${ticketName(ticketId)}.${runId.replace(/[^A-Za-z0-9_.-]/g, '_')}.used.json`);
}

/**
 * Why `f` cannot be given to a Worker, or undefined: a line comment's path that is not a
 * repo-relative path (paths/validate.ts: absolute, `..`, control characters…).
 */
export function feedbackProblem(f: ReviewFeedback): string | undefined {
  for (const l of f.line_comments) {
    const problem = checkRepoPath(l.path);
    if (problem) return `the line comment on ${JSON.stringify(l.path)}:${l.line}: the path ${problem.message} (${problem.rule}); name a file inside the repository, relative to its root`;
  }
  return undefined;
}

/** Keep `feedback` pending for the ticket's next attempt (atomic; replaces an older pending one). */
export async function storeFeedback(feedbackDir: string, feedback: ReviewFeedback): Promise<string> {
  const checked = reviewFeedbackSchema.parse(feedback);
  const problem = feedbackProblem(checked);
  if (problem) throw new FactoryError(`review feedback for ${checked.ticket_id} not stored: ${problem}`, 'feedback.invalid');
  await fs.promises.mkdir(feedbackDir, { recursive: true });
  const file = pendingFeedbackFile(feedbackDir, checked.ticket_id);
  await atomicWrite(file, JSON.stringify(checked, null, 2) + '\n');
  return file;
}

/**
 * The ticket's pending feedback, or null. Read like any record a person could have edited: no
 * symlink, a regular file, capped, valid against the schema and for this ticket; anything else is
 * logged and ignored (the attempt runs without it, the file stays for a person to look at).
 */
export function readPendingFeedback(feedbackDir: string, ticketId: string, log?: Logger): ReviewFeedback | null {
  const file = pendingFeedbackFile(feedbackDir, ticketId);
  if (!fs.existsSync(file) && !isLink(file)) return null;
  try {
    const fb = readUntrustedJson(file, reviewFeedbackSchema, MAX_FEEDBACK_BYTES, path.basename(file));
    if (fb.ticket_id !== ticketId) throw new Error(`it is for ticket ${fb.ticket_id}, not ${ticketId}`);
    const problem = feedbackProblem(fb);
    if (problem) throw new Error(problem);
    return fb;
  } catch (err) {
    log?.warn(`ignoring the pending review feedback ${file}: ${errorMessage(err)}`);
    return null;
  }
}

function isLink(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

/**
 * What the attempt of `ticketId` gives its Worker: the caller's feedback when it is for this
 * ticket (`opts.feedback`), else the ticket's pending file, else nothing.
 */
export function takeFeedback(feedbackDir: string, ticketId: string, opts: Pick<CycleOptions, 'feedback'>, log?: Logger): TakenFeedback | null {
  if (opts.feedback && opts.feedback.ticket_id === ticketId) {
    const problem = feedbackProblem(opts.feedback);
    if (problem) throw new FactoryError(`the review feedback for ${ticketId}: ${problem}`, 'feedback.invalid');
    return { feedback: opts.feedback, source: 'option' };
  }
  const pending = readPendingFeedback(feedbackDir, ticketId, log);
  return pending ? { feedback: pending, source: 'pending' } : null;
}

/** plan.json's `review_feedback`: that the Worker was given feedback, from which run, how many comments. */
export function feedbackNote(f: ReviewFeedback): NonNullable<Plan['review_feedback']> {
  return { ...(f.run_id ? { run_id: f.run_id } : {}), comments: (f.comment.trim() ? 1 : 0) + f.line_comments.length };
}

/** worker-task.json's `reviewComments` (the runtime's prompt section). */
export function reviewComments(f: ReviewFeedback): NonNullable<WorkerTask['reviewComments']> {
  return { comment: f.comment, lines: f.line_comments.map((l) => ({ path: l.path, line: l.line, body: l.body })), ...(f.run_id ? { runId: f.run_id } : {}) };
}

/**
 * The attempt `runId` recorded its verdict: the pending feedback it took is consumed (renamed
 * `.used.json`) — only if the pending file still holds what it took — and a "Request changes"
 * decision of this attempt's review is stored as the ticket's new pending feedback (run_id = this
 * run). Never throws: a failure is logged (the verdict stands).
 */
export async function settleFeedback(feedbackDir: string, plan: Pick<Plan, 'run_id' | 'ticket_id'>, taken: TakenFeedback | null | undefined, decision: ReviewDecision | undefined, log: Logger): Promise<void> {
  try {
    if (taken?.source === 'pending') consumePending(feedbackDir, plan.ticket_id, taken.feedback, plan.run_id);
    const requested = decision && !decision.approved ? decision.feedback : undefined;
    if (requested) await storeFeedback(feedbackDir, { ...requested, ticket_id: plan.ticket_id, run_id: plan.run_id });
  } catch (err) {
    log.warn(`could not settle the review feedback of ${plan.run_id}: ${errorMessage(err)}`);
  }
}

/** Rename the pending file to its `.used.json` name when it is still the feedback `taken`. */
export function consumePending(feedbackDir: string, ticketId: string, taken: ReviewFeedback, runId: string): boolean {
  const current = readPendingFeedback(feedbackDir, ticketId);
  if (!current || current.created_at !== taken.created_at || current.run_id !== taken.run_id) return false;
  fs.renameSync(pendingFeedbackFile(feedbackDir, ticketId), usedFeedbackFile(feedbackDir, ticketId, runId));
  return true;
}

/** The feedback for the evidence README: the comment quoted, each line comment as `path:line — body`. */
export function feedbackReadmeLines(title: string, f: ReviewFeedback): string[] {
  const quote = (text: string) => text.split(/\r?\n/).map((l) => `> ${l}`.trimEnd());
  const lines = [title, ''];
  if (f.run_id) lines.push(`On the changeset of run ${f.run_id}${f.author ? `, by ${f.author}` : ''}.`, '');
  if (f.comment.trim()) lines.push(...quote(f.comment.trim()), '');
  for (const l of f.line_comments) lines.push(`- \`${l.path}\`:${l.line} — ${l.body.replace(/\s*\r?\n\s*/g, ' ')}`);
  if (f.line_comments.length) lines.push('');
  return lines;
}
