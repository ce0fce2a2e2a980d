/**
 * `factory run --feedback FILE` (issue 20): review feedback written by hand for a ticket's next
 * attempt. FILE is either JSON in the record's shape (contracts/review-feedback.ts; `schema_version`,
 * `ticket_id` and `created_at` may be left out) or plain text / Markdown, where a line
 * `path:line: text` (or `path:line text`) is a comment on that line of that file — indented lines
 * right after it continue it — and every other line is the general comment. Every error is a
 * `feedback.invalid` naming the file and the line and saying what to write.
 */
import * as fs from 'node:fs';
import { reviewFeedbackSchema, type LineComment, type ReviewFeedback } from '../contracts/review-feedback';
import { checkRepoPath } from '../paths/validate';
import { FactoryError } from '../util/errors';

/** The largest feedback file read. */
export const MAX_FEEDBACK_FILE_BYTES = 1024 * 1024;

/** `path:line: text` or `path:line text`: a comment on a line. The path has no spaces or colons. */
const LINE_COMMENT = /^([^\s:]+):(\d+)(?::\s*|\s+)(\S.*)$/;

export interface FeedbackFileOptions {
  /** `--ticket`: the ticket when the file names none; a different one in the file is an error. */
  ticket?: string;
  author?: string;
  now?: () => Date;
}

const invalid = (file: string, where: number | null, what: string) => new FactoryError(`${file}${where ? `:${where}` : ''}: ${what}`, 'feedback.invalid');

/** Read and parse `file` (≤ 1 MB, a regular file). @throws FactoryError feedback.invalid / usage. */
export function readFeedbackFile(file: string, opts: FeedbackFileOptions = {}): ReviewFeedback {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) throw invalid(file, null, 'no such file: write the feedback into a text or JSON file and pass its path to --feedback');
  if (st.size > MAX_FEEDBACK_FILE_BYTES) throw invalid(file, null, `${st.size} bytes, more than ${MAX_FEEDBACK_FILE_BYTES}: keep the feedback shorter`);
  return parseFeedback(file, fs.readFileSync(file, 'utf8'), opts);
}

/** Parse the text of a feedback file (`file` names it in errors). */
export function parseFeedback(file: string, text: string, opts: FeedbackFileOptions = {}): ReviewFeedback {
  const body = text.replace(/^\uFEFF/, '');
  const { lines, ...raw } = body.trimStart().startsWith('{') ? fromJson(file, body) : fromText(file, body);
  const ticket = ticketOf(file, raw.ticket_id, opts.ticket);
  const parsed = reviewFeedbackSchema.safeParse({ schema_version: 1, created_at: (opts.now ?? (() => new Date()))().toISOString(), ...(opts.author ? { author: opts.author } : {}), ...raw, ticket_id: ticket });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join('.') ?? '';
    throw invalid(file, lineOfKey(body, issue?.path), `${key ? `${key}: ` : ''}${issue?.message ?? 'not valid'}; see the fields in contracts/review-feedback.ts (comment, line_comments: [{ path, line, body }])`);
  }
  const fb = parsed.data;
  if (!fb.comment.trim() && fb.line_comments.length === 0) throw invalid(file, null, 'no comment and no line comment: write what the next attempt should change (a line `path:line: text` comments on a line)');
  fb.line_comments.forEach((l, i) => checkPath(file, l, lines?.[i] ?? lineOfKey(body, ['line_comments', i, 'path'])));
  return fb;
}

/** The ticket: the file's, or `--ticket`; both and different → invalid; neither → usage. */
function ticketOf(file: string, inFile: unknown, flag: string | undefined): string {
  const named = typeof inFile === 'string' && inFile ? inFile : undefined;
  if (named && flag && named !== flag) throw invalid(file, null, `the file is for ticket ${named} but --ticket is ${flag}: drop one or make them agree`);
  const ticket = named ?? flag;
  if (!ticket) throw new FactoryError(`--feedback ${file} names no ticket: add --ticket T, or "ticket_id" to the JSON file`, 'usage');
  return ticket;
}

/** A line comment's path must be inside the repository (paths/validate.ts). */
function checkPath(file: string, l: LineComment, at: number | null): void {
  const problem = checkRepoPath(l.path);
  if (problem) throw invalid(file, at, `the path ${JSON.stringify(l.path)} ${problem.message} (${problem.rule}): name a file inside the repository, relative to its root, e.g. src/app.ts:12: text`);
}

type RawFeedback = Record<string, unknown> & { lines?: number[] };

function fromJson(file: string, text: string): RawFeedback {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message);
    const at = pos ? text.slice(0, Number(pos[1])).split('\n').length : null;
    throw invalid(file, at, `not valid JSON (${(err as Error).message}): write JSON like {"ticket_id": "D201", "comment": "…", "line_comments": [{"path": "src/a.ts", "line": 3, "body": "…"}]}, or plain text`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(file, 1, 'a JSON feedback file is one object');
  for (const k of ['__proto__', 'constructor', 'prototype']) if (Object.prototype.hasOwnProperty.call(value, k)) throw invalid(file, lineOfKey(text, [k]), `the key ${k} is not allowed`);
  return value as RawFeedback;
}

/** Plain text / Markdown: `path:line: text` lines (and their indented continuation) are line comments, the rest the comment. */
function fromText(file: string, text: string): RawFeedback {
  const comment: string[] = [];
  const lineComments: LineComment[] = [];
  const at: number[] = [];
  let last: LineComment | null = null;
  let fence = false;
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : LINE_COMMENT.exec(line);
    if (m) {
      const n = Number(m[2]);
      if (!Number.isSafeInteger(n) || n < 1) throw invalid(file, i + 1, `line ${m[2]} of ${m[1]}: lines count from 1 (write ${m[1]}:1: text)`);
      last = { path: m[1] ?? '', line: n, body: (m[3] ?? '').trim() };
      lineComments.push(last);
      at.push(i + 1);
    } else if (last && /^(\t| {2,})\S/.test(line)) {
      last.body += '\n' + line.trim();
    } else {
      last = null;
      comment.push(line);
    }
  }
  return { comment: comment.join('\n').trim(), line_comments: lineComments, lines: at };
}

/**
 * The 1-based line of the last key of `keys` in a JSON text, best effort: the n-th occurrence when
 * an array index n precedes it (`line_comments.2.path` → the third "path"), else the first; or null.
 */
function lineOfKey(text: string, keys: readonly PropertyKey[] | undefined): number | null {
  const list = [...(keys ?? [])];
  const k = list.findLastIndex((x) => typeof x === 'string');
  if (k < 0) return null;
  const index = typeof list[k - 1] === 'number' ? (list[k - 1] as number) : 0;
  const needle = JSON.stringify(list[k]);
  let i = -1;
  for (let n = 0; n <= index; n++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) return null;
  }
  return text.slice(0, i).split('\n').length;
}
