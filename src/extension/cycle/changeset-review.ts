import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ChangesetReview, ReviewDecision } from '../../core/cycle/orchestrator';
import { showFile } from '../../core/cycle/git-ops';
import { runGit } from '../../core/git/git';
import { DisposableStore } from '../util/disposable-store';
import { buildFeedback, changesRequestedReason, requestChangesProblem } from './request-changes';
import { ReviewComments } from './review-comments';

/** The read-only document scheme of both sides of a review diff. */
export const REVIEW_SCHEME = 'factory-review';
/** Context key: a changeset waits for approval (shows Approve / Reject in the editor title). */
export const REVIEW_PENDING_KEY = 'factory.reviewPending';
/** The largest file a diff side shows in full (the Worker's files are untrusted and may be huge). */
const MAX_SIDE_BYTES = 5 * 1024 * 1024;

/** What one review shows: the base commit against the verified staging tree. */
export interface ReviewSubject {
  root: string;
  runId: string;
  ticketId: string;
  baseCommit: string;
  workspace: string;
  changes: readonly { path: string; kind: string }[];
}

interface Pending {
  subject: ReviewSubject;
  resolve: (d: ReviewDecision) => void;
  /** `git config user.name`, once read: the feedback's author. */
  author?: string;
}

/** A changed path as the snapshot diff gives it: relative, no `..`, no backslash. Anything else is refused. */
function safeRel(p: string): string | undefined {
  if (!p || p.startsWith('/') || p.includes('\\') || p.includes('\0') || p.split('/').some((s) => s === '..' || s === '')) return undefined;
  return p;
}

/**
 * "Factory: Review Changeset" (issue 7; `factory.review.requireApproval`): before ADJUST writes
 * anything, the Worker's changes open as one multi-file diff (base commit ↔ the verified staging
 * copy, both read-only) and the cycle waits for Approve or Reject. Stopping the cycle while it
 * waits rejects it, and the core records the cycle ABORTED.
 *
 * The staging files are the Worker's (hostile) output: read with lstat and O_NOFOLLOW, never
 * through a symlink, capped in size, shown as text only.
 */
export class ChangesetReviewer extends DisposableStore implements vscode.TextDocumentContentProvider {
  private pending: Pending | undefined;
  private subjects = new Map<string, ReviewSubject>();
  /** The line comments of the pending review ("Request Changes"). */
  readonly comments: ReviewComments;

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.add(vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, this));
    this.comments = this.add(new ReviewComments(REVIEW_SCHEME));
    this.add({ dispose: () => this.settle({ approved: false, reason: 'the window closed during the review' }) });
  }

  /** The changeset waiting for a decision, if any. */
  get current(): ReviewSubject | undefined {
    return this.pending?.subject;
  }

  /**
   * The orchestrator's `review` hook for one cycle: shows the diff, asks, and resolves with the
   * decision (or a rejection when `signal` aborts).
   */
  hook(root: string, signal: AbortSignal): (r: ChangesetReview) => Promise<ReviewDecision> {
    return (r) =>
      new Promise<ReviewDecision>((resolve) => {
        this.settle({ approved: false, reason: 'superseded by a newer review' });
        const subject: ReviewSubject = { root, runId: r.runId, ticketId: r.ticketId, baseCommit: r.baseCommit, workspace: r.workspace, changes: r.changes };
        this.pending = { subject, resolve };
        this.comments.begin(subject.runId);
        void gitUserName(root).then((name) => {
          if (!name || this.pending?.subject !== subject) return;
          this.pending.author = name;
          this.comments.setAuthor(name);
        });
        const onAbort = () => this.settle({ approved: false, reason: 'the cycle was stopped during the review' });
        signal.addEventListener('abort', onAbort, { once: true });
        void vscode.commands.executeCommand('setContext', REVIEW_PENDING_KEY, true);
        this.log.info(`review: ${r.ticketId} run ${r.runId} waits for approval (${r.changes.length} changed file(s))`);
        void this.open(subject);
        void vscode.window
          .showInformationMessage(
            `Factory: ${r.ticketId} passed every check. Review its ${r.changes.length} changed file(s) before they are applied.`,
            'Approve and Apply',
            'Request Changes',
            'Reject',
            'Show Diff',
          )
          .then(async (choice) => {
            if (this.pending?.subject !== subject) return;
            if (choice === 'Approve and Apply') this.approve();
            else if (choice === 'Request Changes') await this.requestChanges();
            else if (choice === 'Reject') await this.rejectAsking();
            else if (choice === 'Show Diff') await this.open(subject);
          });
      });
  }

  /** Approve the pending changeset. False when none waits. */
  approve(): boolean {
    if (!this.pending) return false;
    this.log.info(`review: ${this.pending.subject.runId} approved`);
    this.settle({ approved: true });
    return true;
  }

  /** Reject the pending changeset with `reason`. False when none waits. */
  reject(reason = 'rejected by the reviewer'): boolean {
    if (!this.pending) return false;
    this.log.info(`review: ${this.pending.subject.runId} rejected: ${reason}`);
    this.settle({ approved: false, reason });
    return true;
  }

  /** Reject, asking for an optional reason (it goes into the history line and the Run panel). */
  async rejectAsking(): Promise<boolean> {
    if (!this.pending) return false;
    const reason = await vscode.window.showInputBox({ title: 'Factory: Reject Changeset', prompt: 'Why? (recorded in history.jsonl; optional)', ignoreFocusOut: true });
    if (reason === undefined) return false;
    return this.reject(reason.trim() || 'rejected by the reviewer');
  }

  /**
   * "Request Changes" (issue 20): the cycle FAILs and the comment with the diff's line comments
   * goes to the ticket's next attempt. `comment` given (a command argument): not asked. The
   * comment may be empty when there are line comments. False when none waits or the user cancels.
   */
  async requestChanges(comment?: string): Promise<boolean> {
    const p = this.pending;
    if (!p) return false;
    const lines = this.comments.collect();
    const text =
      comment ??
      (await vscode.window.showInputBox({
        title: 'Factory: Request Changes',
        prompt: lines.length ? `What should the next attempt change? Your ${lines.length} line comment(s) go with it.` : 'What should the next attempt change? (add comments on lines of the diff too)',
        ignoreFocusOut: true,
        validateInput: (v) => requestChangesProblem(v, this.comments.collect().length),
      }));
    if (text === undefined || this.pending !== p) return false;
    const lineComments = this.comments.collect();
    if (requestChangesProblem(text, lineComments.length)) return false;
    const { subject } = p;
    const author = p.author ?? (await gitUserName(subject.root));
    const feedback = buildFeedback({ ticketId: subject.ticketId, runId: subject.runId, comment: text, lineComments, ...(author ? { author } : {}), now: new Date() });
    if (this.pending !== p) return false;
    const reason = changesRequestedReason(feedback.comment, feedback.line_comments);
    this.log.info(`review: ${subject.runId} ${reason} (${feedback.line_comments.length} line comment(s))`);
    this.settle({ approved: false, reason, feedback });
    return true;
  }

  private settle(d: ReviewDecision): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.comments.end();
    void vscode.commands.executeCommand('setContext', REVIEW_PENDING_KEY, false);
    p.resolve(d);
  }

  /** Open the multi-file diff of `subject` (base ↔ staging). */
  async open(subject: ReviewSubject): Promise<void> {
    const entries: [vscode.Uri, vscode.Uri, vscode.Uri][] = [];
    for (const c of subject.changes) {
      const base = this.sideUri(subject, c.path, 'base', c.kind);
      const after = this.sideUri(subject, c.path, 'after', c.kind);
      if (base && after) entries.push([vscode.Uri.joinPath(vscode.Uri.file(subject.root), c.path), base, after]);
    }
    await vscode.commands.executeCommand('vscode.changes', `Factory: ${subject.ticketId} changeset`, entries);
  }

  /**
   * The read-only document of `rel` on one side of `subject`'s diff (undefined for a path the
   * diff would refuse); `subject` is registered, so the document can be read. Same path on both
   * sides (the side is in the query), so a diff shows one file, not a rename.
   */
  sideUri(subject: ReviewSubject, rel: string, side: 'base' | 'after', kind: string): vscode.Uri | undefined {
    if (!safeRel(rel)) return undefined;
    this.subjects.set(subject.runId, subject);
    return vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${rel}`, query: `side=${side}&run=${encodeURIComponent(subject.runId)}&kind=${encodeURIComponent(kind)}` });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const params = new URLSearchParams(uri.query);
    const subject = this.subjects.get(params.get('run') ?? '');
    const side = params.get('side');
    const rel = safeRel(uri.path.replace(/^\//, ''));
    if (!subject || !rel || (side !== 'base' && side !== 'after')) return '';
    const kind = params.get('kind') ?? 'modified';
    if (side === 'base') {
      if (kind === 'added') return '';
      try {
        return textOf(await showFile(subject.root, subject.baseCommit, rel));
      } catch (err) {
        this.log.warn(`review: ${rel} at ${subject.baseCommit.slice(0, 7)}: ${String(err)}`);
        return '';
      }
    }
    if (kind === 'deleted') return '';
    return readUntrustedText(path.join(subject.workspace, rel));
  }
}

/** `git config user.name` of the repository (the feedback's author), when it answers quickly. */
async function gitUserName(root: string): Promise<string | undefined> {
  try {
    const r = await runGit(root, ['config', '--get', 'user.name'], { signal: AbortSignal.timeout(5000) });
    const name = r.code === 0 ? r.stdout.toString('utf8').trim() : '';
    return name || undefined;
  } catch {
    return undefined;
  }
}

function textOf(buf: Buffer): string {
  if (buf.length > MAX_SIDE_BYTES) return `(${buf.length} bytes: too large to show; the first ${MAX_SIDE_BYTES} bytes follow)\n${buf.subarray(0, MAX_SIDE_BYTES).toString('utf8')}`;
  if (buf.subarray(0, 8000).includes(0)) return `(binary file, ${buf.length} bytes)`;
  return buf.toString('utf8');
}

/** A file of the Worker's tree as text: never through a symlink, capped, binary named not shown. */
function readUntrustedText(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return '';
  }
  if (st.isSymbolicLink()) {
    try {
      return `(symbolic link → ${fs.readlinkSync(file)})`;
    } catch {
      return '(symbolic link)';
    }
  }
  if (!st.isFile()) return `(not a regular file)`;
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(Math.min(st.size, MAX_SIDE_BYTES + 1));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return textOf(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}
