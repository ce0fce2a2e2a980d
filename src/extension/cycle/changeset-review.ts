import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ChangesetReview, ReviewDecision } from '../../core/cycle/orchestrator';
import { showFile } from '../../core/cycle/git-ops';
import { DisposableStore } from '../util/disposable-store';

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

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this.add(vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, this));
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
        const onAbort = () => this.settle({ approved: false, reason: 'the cycle was stopped during the review' });
        signal.addEventListener('abort', onAbort, { once: true });
        void vscode.commands.executeCommand('setContext', REVIEW_PENDING_KEY, true);
        this.log.info(`review: ${r.ticketId} run ${r.runId} waits for approval (${r.changes.length} changed file(s))`);
        void this.open(subject);
        void vscode.window
          .showInformationMessage(
            `Factory: ${r.ticketId} passed every check. Review its ${r.changes.length} changed file(s) before they are applied.`,
            'Approve and Apply',
            'Reject',
            'Show Diff',
          )
          .then(async (choice) => {
            if (this.pending?.subject !== subject) return;
            if (choice === 'Approve and Apply') this.approve();
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

  private settle(d: ReviewDecision): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    void vscode.commands.executeCommand('setContext', REVIEW_PENDING_KEY, false);
    p.resolve(d);
  }

  /** Open the multi-file diff of `subject` (base ↔ staging). */
  async open(subject: ReviewSubject): Promise<void> {
    this.subjects.set(subject.runId, subject);
    const entries: [vscode.Uri, vscode.Uri, vscode.Uri][] = [];
    for (const c of subject.changes) {
      const rel = safeRel(c.path);
      if (!rel) continue;
      // Same path on both sides (the side is in the query), so the diff shows one file, not a rename.
      const side = (s: 'base' | 'after') => vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${rel}`, query: `side=${s}&run=${encodeURIComponent(subject.runId)}&kind=${encodeURIComponent(c.kind)}` });
      entries.push([vscode.Uri.joinPath(vscode.Uri.file(subject.root), rel), side('base'), side('after')]);
    }
    await vscode.commands.executeCommand('vscode.changes', `Factory: ${subject.ticketId} changeset`, entries);
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
