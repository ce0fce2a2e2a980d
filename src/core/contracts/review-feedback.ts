import { z } from 'zod';

/**
 * A person's "Request changes" on a changeset (issue 20): a free-text comment and comments on
 * lines of the diff. Stored with the run it reviewed (`<ap>/feedback/<ticket>.json` until the
 * next attempt of that ticket takes it, and in that attempt's evidence), and given to the next
 * attempt's Worker as the prompt section "Review comments from the previous attempt".
 * `factory run --feedback FILE` reads the same shape (or plain text: see cycle/feedback.ts).
 */
export const lineCommentSchema = z.strictObject({
  /** Repo-relative path of the file the comment is on (validated by paths/validate.ts). */
  path: z.string().min(1).max(1000),
  /** 1-based line in the changeset's "after" side. */
  line: z.number().int().min(1),
  body: z.string().min(1).max(10_000),
});
export type LineComment = z.output<typeof lineCommentSchema>;

export const reviewFeedbackSchema = z.strictObject({
  schema_version: z.literal(1),
  ticket_id: z.string().min(1).max(200),
  /** The run whose changeset was reviewed (absent for feedback written by hand for --feedback). */
  run_id: z.string().min(1).max(200).optional(),
  comment: z.string().max(20_000).default(''),
  line_comments: z.array(lineCommentSchema).max(200).default([]),
  /** Who asked for the changes (the editor's user, `git config user.name`), when known. */
  author: z.string().max(200).optional(),
  created_at: z.string().max(64),
});
export type ReviewFeedback = z.output<typeof reviewFeedbackSchema>;
export type ReviewFeedbackInput = z.input<typeof reviewFeedbackSchema>;
