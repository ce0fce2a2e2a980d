/**
 * "Request changes" on a changeset review (issue 20), the parts without `vscode`: which review
 * document a comment thread sits on, the thread → `LineComment` mapping, the reason line the
 * history and the Run panel show, and the `ReviewFeedback` record the core stores for the next
 * attempt. Plain mocha tests it.
 */
import { reviewFeedbackSchema, type LineComment, type ReviewFeedback } from '../../core/contracts/review-feedback';
import { isSafeRepoPath } from '../../core/paths/validate';

/** Caps of the record (review-feedback.ts): what does not fit is cut, never refused. */
const MAX_LINE_COMMENTS = 200;
const MAX_BODY = 10_000;
const MAX_COMMENT = 20_000;
/** The reason's first line is cut to this many characters (history line, Run panel note). */
const MAX_REASON_LINE = 160;

/** A review document's place: the after side of one run's changed file. */
export interface ReviewDocRef {
  /** Repo-relative path (the diff document's path without its leading `/`). */
  path: string;
  side: 'base' | 'after';
  runId: string;
}

/**
 * The review document a `factory-review:` URI's path and query name (`side=after&run=…`), or
 * undefined for anything else (a path the validator refuses, a missing run).
 */
export function reviewDocRef(uriPath: string, query: string): ReviewDocRef | undefined {
  const params = new URLSearchParams(query);
  const side = params.get('side');
  const runId = params.get('run');
  const rel = uriPath.replace(/^\//, '');
  if ((side !== 'base' && side !== 'after') || !runId || !isSafeRepoPath(rel, { protect: false })) return undefined;
  return { path: rel, side, runId };
}

/** One comment thread as the editor holds it: where it is (0-based line) and its comments' text. */
export interface ThreadLike {
  uriPath: string;
  query: string;
  /** 0-based line of the thread's range start. */
  line0: number;
  bodies: readonly string[];
}

/**
 * The line comments of `runId`'s review: one per non-empty comment of a thread on the after side
 * of that run's diff (path repo-relative, line 1-based), ordered by path and line, capped.
 */
export function lineCommentsOf(threads: readonly ThreadLike[], runId: string): LineComment[] {
  const out: LineComment[] = [];
  for (const t of threads) {
    const ref = reviewDocRef(t.uriPath, t.query);
    if (!ref || ref.side !== 'after' || ref.runId !== runId) continue;
    for (const b of t.bodies) {
      const body = b.trim();
      if (body) out.push({ path: ref.path, line: Math.max(0, Math.floor(t.line0)) + 1, body: body.slice(0, MAX_BODY) });
    }
  }
  out.sort((a, b) => (a.path === b.path ? a.line - b.line : a.path < b.path ? -1 : 1));
  return out.slice(0, MAX_LINE_COMMENTS);
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * The decision's reason: `changes requested: <first line>` — the free-text comment's first
 * non-empty line, else the first line comment as `path:line body`.
 */
export function changesRequestedReason(comment: string, lineComments: readonly LineComment[]): string {
  const first = (s: string) => s.split(/\r?\n/).map((l) => l.trim()).find((l) => l) ?? '';
  const own = first(comment);
  const lc = lineComments[0];
  const line = own || (lc ? `${lc.path}:${lc.line} ${first(lc.body)}` : '');
  return `changes requested: ${cut(line, MAX_REASON_LINE) || 'no comment'}`;
}

export interface FeedbackInput {
  ticketId: string;
  runId: string;
  comment: string;
  lineComments: readonly LineComment[];
  author?: string;
  now: Date;
}

/** The record the core stores for the ticket's next attempt (schema-checked here, so a bad one never leaves the editor). */
export function buildFeedback(i: FeedbackInput): ReviewFeedback {
  const author = i.author?.trim().slice(0, 200);
  return reviewFeedbackSchema.parse({
    schema_version: 1,
    ticket_id: i.ticketId,
    run_id: i.runId,
    comment: i.comment.trim().slice(0, MAX_COMMENT),
    line_comments: i.lineComments.slice(0, MAX_LINE_COMMENTS),
    ...(author ? { author } : {}),
    created_at: i.now.toISOString(),
  });
}

/** Whether a Request Changes may be sent: a comment, or at least one line comment. */
export function requestChangesProblem(comment: string, lineComments: number): string | undefined {
  return comment.trim() || lineComments > 0 ? undefined : 'Say what to change, or add comments on lines of the diff first.';
}
