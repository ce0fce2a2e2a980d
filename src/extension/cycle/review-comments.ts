import * as vscode from 'vscode';
import type { LineComment } from '../../core/contracts/review-feedback';
import { DisposableStore } from '../util/disposable-store';
import { lineCommentsOf, reviewDocRef } from './request-changes';

/** The comment controller's id: package.json's `comments/*` menus name it (`commentController == …`). */
export const REVIEW_COMMENTS_ID = 'factory.review';
/** A comment's context value (its Edit / Delete title actions). */
const COMMENT_CONTEXT = 'factory.reviewComment';

let nextCommentId = 1;

/** One person's comment on a line of the review diff, editable and deletable until the review settles. */
class ReviewComment implements vscode.Comment {
  readonly id = nextCommentId++;
  readonly contextValue = COMMENT_CONTEXT;
  mode = vscode.CommentMode.Preview;
  /** The text as last saved: Cancel goes back to it, and only it is sent. */
  saved: string;

  constructor(
    public body: string | vscode.MarkdownString,
    public readonly author: vscode.CommentAuthorInformation,
    public readonly parent: vscode.CommentThread,
  ) {
    this.saved = textOf(body);
  }
}

function textOf(body: string | vscode.MarkdownString): string {
  return typeof body === 'string' ? body : body.value;
}

function isComment(c: unknown): c is ReviewComment {
  return c instanceof ReviewComment;
}

/**
 * "Request changes"'s line comments (issue 20): while a review waits, every line of the after side
 * of its diff (`factory-review:` …`side=after&run=<its run>`) can take a comment thread. A
 * controller per review, so disposing it when the review settles takes every thread (drafts
 * included) with it. `collect()` maps the threads to the record's `LineComment`s.
 */
export class ReviewComments extends DisposableStore {
  private controller: vscode.CommentController | undefined;
  private runId: string | undefined;
  private readonly threads = new Set<vscode.CommentThread>();
  private author: vscode.CommentAuthorInformation = { name: 'You' };

  constructor(private readonly scheme: string) {
    super();
    const reg = (d: vscode.Disposable) => this.add(d);
    // The comment widget's buttons (package.json `comments/*` menus) call these with the reply, comment or thread.
    reg(vscode.commands.registerCommand('factory.reviewComment.add', (r: vscode.CommentReply) => this.addComment(r)));
    reg(vscode.commands.registerCommand('factory.reviewComment.edit', (c: unknown) => this.setMode(c, vscode.CommentMode.Editing)));
    reg(vscode.commands.registerCommand('factory.reviewComment.save', (c: unknown) => this.save(c)));
    reg(vscode.commands.registerCommand('factory.reviewComment.cancel', (c: unknown) => this.cancel(c)));
    reg(vscode.commands.registerCommand('factory.reviewComment.delete', (c: unknown) => this.deleteComment(c)));
    reg(vscode.commands.registerCommand('factory.reviewThread.delete', (t: vscode.CommentThread) => this.deleteThread(t)));
    this.add({ dispose: () => this.end() });
  }

  /** Accept comments on `runId`'s diff (the previous review's threads go). */
  begin(runId: string): void {
    this.end();
    this.runId = runId;
    const c = vscode.comments.createCommentController(REVIEW_COMMENTS_ID, 'Factory review');
    c.options = { prompt: 'Comment for the next attempt', placeHolder: 'What should change here? (sent with "Request Changes")' };
    c.commentingRangeProvider = { provideCommentingRanges: (doc) => this.ranges(doc) };
    this.controller = c;
  }

  /** The name new comments carry (git user.name). */
  setAuthor(name: string): void {
    this.author = { name };
  }

  /** The review settled: every thread goes. */
  end(): void {
    this.threads.clear();
    this.controller?.dispose();
    this.controller = undefined;
    this.runId = undefined;
  }

  /** The saved comments of the current review, as the feedback record's line comments. */
  collect(): LineComment[] {
    if (!this.runId) return [];
    const threads = [...this.threads].map((t) => ({
      uriPath: t.uri.path,
      query: t.uri.query,
      line0: t.range?.start.line ?? 0,
      bodies: t.comments.filter(isComment).map((c) => c.saved),
    }));
    return lineCommentsOf(threads, this.runId);
  }

  /** Every line of the current review's after documents. */
  private ranges(doc: vscode.TextDocument): vscode.Range[] {
    if (doc.uri.scheme !== this.scheme || !this.runId) return [];
    const ref = reviewDocRef(doc.uri.path, doc.uri.query);
    if (!ref || ref.side !== 'after' || ref.runId !== this.runId) return [];
    return [new vscode.Range(0, 0, Math.max(0, doc.lineCount - 1), 0)];
  }

  private addComment(reply: vscode.CommentReply): void {
    const text = reply.text.trim();
    if (!text || !this.controller) return;
    const t = reply.thread;
    t.comments = [...t.comments, new ReviewComment(text, this.author, t)];
    t.contextValue = 'factory.reviewThread';
    t.canReply = true;
    t.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
    this.threads.add(t);
  }

  private refresh(t: vscode.CommentThread): void {
    t.comments = [...t.comments];
  }

  private setMode(c: unknown, mode: vscode.CommentMode): void {
    if (!isComment(c)) return;
    c.mode = mode;
    this.refresh(c.parent);
  }

  private save(c: unknown): void {
    if (!isComment(c)) return;
    const text = textOf(c.body).trim();
    if (!text) return this.deleteComment(c);
    c.saved = text;
    c.body = text;
    this.setMode(c, vscode.CommentMode.Preview);
  }

  private cancel(c: unknown): void {
    if (!isComment(c)) return;
    c.body = c.saved;
    this.setMode(c, vscode.CommentMode.Preview);
  }

  private deleteComment(c: unknown): void {
    if (!isComment(c)) return;
    const t = c.parent;
    t.comments = t.comments.filter((x) => x !== c);
    if (t.comments.length === 0) this.deleteThread(t);
  }

  private deleteThread(t: vscode.CommentThread | undefined): void {
    if (!t) return;
    this.threads.delete(t);
    t.dispose();
  }
}
