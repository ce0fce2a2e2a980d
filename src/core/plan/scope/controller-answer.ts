/**
 * The pure half of the Controller model's scope review (controller-review.ts does the I/O): the
 * prompt it is asked, and the checks its answer must pass before it may change a plan. The answer
 * is untrusted (a model can be wrong, or steered by text in the ticket): it is size-capped, parsed
 * strictly, and may only name existing repository files that no forbidden rule matches.
 */
import picomatch from 'picomatch';
import { z } from 'zod';
import { checkRepoPath } from '../../paths/validate';
import type { AcceptanceCriterion, Ticket } from '../../ssot/model';
import type { ScopeCandidate, ScopeClass } from './scope-types';

/** The largest answer text read; anything longer is refused unread. */
export const MAX_ANSWER_CHARS = 64 * 1024;
/** A returned candidate's reason keeps this much of the model's own words. */
const REASON_CHARS = 200;
/** Prompt caps: the ticket text and the candidate list a person could still read. */
const MAX_TEXT_CHARS = 20_000;
const MAX_PROMPT_CANDIDATES = 300;

const entrySchema = z.strictObject({
  path: z.string().min(1).max(1024),
  reason: z.string().max(4000).default(''),
});

/** What the model must answer: the scope it recommends, each entry with its reason. */
export const controllerAnswerSchema = z.strictObject({
  modify: z.array(entrySchema).max(500),
  readonly: z.array(entrySchema).max(500).default([]),
});
export type ControllerAnswer = z.output<typeof controllerAnswerSchema>;

/** What the prompt is made of. */
export interface ControllerPromptInput {
  ticket: Pick<Ticket, 'id' | 'title'>;
  acs: readonly Pick<AcceptanceCriterion, 'id' | 'title'>[];
  candidates: readonly ScopeCandidate[];
}

const SYSTEM = [
  'You are the Controller of a coding factory. A Worker agent will implement one ticket inside a sandbox and may only change the files you put in "modify"; it may read the files in "readonly".',
  'Review the candidate scope derived from the ticket text and the repository history. Narrow it (drop files the ticket does not need) or extend it (add repository files it clearly needs, such as the matching tests).',
  'Name exact repository paths only. Answer with one JSON object and nothing else:',
  '{"modify":[{"path":"<repo path>","reason":"<one short line>"}],"readonly":[{"path":"<repo path>","reason":"<one short line>"}]}',
].join('\n');

/** The system and user text of the review request. */
export function controllerPrompt(input: ControllerPromptInput): { system: string; user: string } {
  const acs = input.acs.map((a) => `- ${a.id}: ${a.title}`).join('\n');
  const list = input.candidates
    .slice(0, MAX_PROMPT_CANDIDATES)
    .map((c) => `- ${c.cls} ${c.path} — ${c.reason}`)
    .join('\n');
  const more = input.candidates.length > MAX_PROMPT_CANDIDATES ? `\n(${input.candidates.length - MAX_PROMPT_CANDIDATES} more candidates not shown)` : '';
  const user = [`Ticket ${input.ticket.id}: ${input.ticket.title}`, '', 'Acceptance criteria:', acs || '(none)', '', 'Candidate scope (class path — reason):', (list || '(none)') + more]
    .join('\n')
    .slice(0, MAX_TEXT_CHARS);
  return { system: SYSTEM, user };
}

/**
 * The model's answer text as a ControllerAnswer. A fenced block or prose around the object is
 * tolerated (models add them); anything else — too long, not JSON, unknown keys, wrong types —
 * throws an Error that says why.
 */
export function parseControllerAnswer(text: string): ControllerAnswer {
  if (text.length > MAX_ANSWER_CHARS) throw new Error(`the answer is ${text.length} characters (limit ${MAX_ANSWER_CHARS})`);
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the answer holds no JSON object');
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(start, end + 1));
  } catch (err) {
    throw new Error(`the answer is not valid JSON: ${(err as Error).message}`);
  }
  const r = controllerAnswerSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`the answer does not match {"modify":[{"path","reason"}],"readonly":[…]} at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** What an answer is checked against. */
export interface AcceptContext {
  /** Every file of the repository (repo-relative, as `git ls-files` names them). */
  files: readonly string[];
  /** The plan's forbidden globs: always win. */
  forbidden: readonly string[];
  /** The model's name, for the reasons. */
  model: string;
  /** The candidates the model reviewed. */
  candidates: readonly ScopeCandidate[];
}

/** The accepted scope and one line per entry that was dropped. */
export interface AcceptedScope {
  candidates: ScopeCandidate[];
  dropped: string[];
}

const GLOB_OPTIONS = { dot: true, nonegate: true, noextglob: true } as const;

/** Why `path` may not enter the scope, or undefined when it may. */
function rejection(path: string, fileSet: ReadonlySet<string>, files: readonly string[], isForbidden: (p: string) => boolean): string | undefined {
  const glob = picomatch.scan(path).isGlob;
  const bad = checkRepoPath(path, { kind: glob ? 'glob' : 'path' });
  if (bad) return `not a safe repository path (${bad.rule})`;
  if (isForbidden(path)) return 'forbidden';
  if (!glob) return fileSet.has(path) ? undefined : 'no such file in the repository';
  const inGlob = picomatch(path, GLOB_OPTIONS);
  const matches = files.filter((f) => inGlob(f));
  if (!matches.length) return 'the glob matches no file in the repository';
  const hit = matches.find((f) => isForbidden(f));
  return hit ? `the glob covers the forbidden file ${hit}` : undefined;
}

/**
 * Keep what the model may say: existing files (or globs that match existing files) that no
 * forbidden rule matches. Each kept entry becomes a `controller` candidate; a reviewed candidate
 * the model kept in the same class keeps its own reason beside it. Config candidates (per-ticket
 * overrides a person wrote) always stay: they win over any model.
 */
export function acceptControllerAnswer(answer: ControllerAnswer, ctx: AcceptContext): AcceptedScope {
  const fileSet = new Set(ctx.files);
  const forbidden = ctx.forbidden.length ? picomatch([...ctx.forbidden], GLOB_OPTIONS) : undefined;
  const isForbidden = (p: string): boolean => forbidden?.(p) ?? false;
  const dropped: string[] = [];
  const kept = new Map<string, ScopeCandidate>();
  const take = (cls: ScopeClass, entries: ControllerAnswer['modify']) => {
    for (const e of entries) {
      const why = rejection(e.path, fileSet, ctx.files, isForbidden);
      if (why) dropped.push(`${e.path}: ${why}`);
      // modify first: a path the model names in both keeps the wider class.
      else if (!kept.has(e.path)) kept.set(e.path, { path: e.path, cls, reason: controllerReason(ctx.model, e.reason), source: 'controller' });
    }
  };
  take('modify', answer.modify);
  take('readonly', answer.readonly);
  const evidence = ctx.candidates.filter((c) => c.source === 'config' || kept.get(c.path)?.cls === c.cls);
  return { candidates: [...evidence, ...kept.values()], dropped };
}

/** "Controller model <model>: <its reason, cut to 200 chars>" — one line. */
function controllerReason(model: string, reason: string): string {
  const said = reason.replace(/\s+/g, ' ').trim();
  const cut = said.length > REASON_CHARS ? `${said.slice(0, REASON_CHARS - 1)}…` : said;
  return `Controller model ${model}: ${cut || 'no reason given'}`;
}
