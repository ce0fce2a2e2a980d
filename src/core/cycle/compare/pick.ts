/**
 * The pure part of a compare run (`factory run --compare a,b`, issue 20): the options' check, the
 * two sides' names and run ids, each candidate's facts, and the `--pick auto` rule. No I/O.
 */
import { ADAPTERS } from '../../agents/registry';
import type { SpendEntry } from '../../contracts/history-entry';
import { formatRunId, parseRunId } from '../../evidence/run-id';
import { FactoryError } from '../../util/errors';
import type { CompareCandidate, CycleOptions } from '../cycle-types';

/** The two sides, in the order `--compare` names them. */
export const SIDES = ['a', 'b'] as const;
export type Side = (typeof SIDES)[number];

/** One side of `--compare`: `agent`, or `agent:model` (the same agent on two models is a compare too). */
export interface CompareSide {
  side: Side;
  agent: string;
  model?: string;
  /** As the user wrote it: `codex`, `replay:gpt-5-mini`. */
  spec: string;
}

/** `agent[:model]` → its parts; the agent is everything before the first `:`. */
export function parseSide(spec: string, side: Side): CompareSide {
  const text = spec.trim();
  const at = text.indexOf(':');
  const agent = at < 0 ? text : text.slice(0, at).trim();
  const model = at < 0 ? undefined : text.slice(at + 1).trim();
  return { side, agent, ...(model ? { model } : {}), spec: text };
}

/**
 * The two sides of a compare run, checked before the repository is locked.
 * @throws FactoryError `compare.invalid` with `--parallel > 1`, `--agent` or `--model`, an empty or
 *   repeated side; `agent_unknown` for an agent no adapter has.
 */
export function compareSides(opts: Pick<CycleOptions, 'compare' | 'agent' | 'model'> & { parallel?: number }): [CompareSide, CompareSide] {
  const c = opts.compare;
  if (!c) throw new FactoryError('not a compare run', 'compare.invalid');
  if ((opts.parallel ?? 1) > 1) throw new FactoryError(`--compare runs one ticket on two agents; it does not combine with --parallel ${opts.parallel}`, 'compare.invalid');
  if (opts.agent !== undefined || opts.model !== undefined) throw new FactoryError('--compare names each side\'s agent (and model, as agent:model); it does not combine with --agent or --model', 'compare.invalid');
  if (c.pick !== 'auto' && c.pick !== 'ask') throw new FactoryError(`--pick must be auto or ask, got "${String(c.pick)}"`, 'compare.invalid');
  if (!Array.isArray(c.agents) || c.agents.length !== 2) throw new FactoryError('--compare needs exactly two agents: --compare A,B (each agent or agent:model)', 'compare.invalid');
  const sides: [CompareSide, CompareSide] = [parseSide(c.agents[0], 'a'), parseSide(c.agents[1], 'b')];
  for (const s of sides) {
    if (!s.agent || s.spec.endsWith(':')) throw new FactoryError(`--compare: "${s.spec}" names no agent or an empty model (agent or agent:model)`, 'compare.invalid');
    if (!Object.prototype.hasOwnProperty.call(ADAPTERS, s.agent)) throw new FactoryError(`unknown agent '${s.agent}' (--compare ${c.agents.join(',')}; known: ${Object.keys(ADAPTERS).join(', ')})`, 'agent_unknown');
  }
  if (sides[0].agent === sides[1].agent && sides[0].model === sides[1].model) throw new FactoryError(`--compare needs two different agents (or models), got ${sides[0].spec} twice`, 'compare.invalid');
  return sides;
}

/**
 * Side b's run id: side a keeps the plan's; b's is the next second's id of the same ticket and
 * commit that `taken` does not know (an evidence folder of that name), in the evidence's format.
 */
export function secondRunId(runId: string, taken: (id: string) => boolean): string {
  const parts = parseRunId(runId);
  if (!parts) return `${runId}-b`;
  for (let i = 1; i < 600; i++) {
    const id = formatRunId(new Date(parts.time.getTime() + i * 1000), parts.label, parts.shortHash);
    if (id !== runId && !taken(id)) return id;
  }
  return `${runId}-b`;
}

/** Input and output tokens of a candidate's spend entries (Worker and Auditor). */
export function tokensOf(spend: readonly SpendEntry[]): { input: number; output: number } {
  return spend.reduce((t, s) => ({ input: t.input + (s.tokens?.in ?? 0), output: t.output + (s.tokens?.out ?? 0) }), { input: 0, output: 0 });
}

/** What one side produced, as a candidate: the facts the person (or `--pick auto`) chooses by. */
export interface CandidateInput {
  runId: string;
  side: CompareSide;
  /** The model the side's plan routed the Worker to. */
  model?: string | undefined;
  /** The side's verdict after CHECK (PASS: every check passed), or why it ended early. */
  status: string;
  reasons: readonly string[];
  gate: 'PASS' | 'FAIL' | undefined;
  changes: readonly { path: string; kind: string }[];
  diffLines: number;
  /** The side's own spend (Worker, Auditor): the shared PLAN's Controller review is not in it. */
  spend: readonly SpendEntry[];
  costUsd: number;
  workspace: string;
  baseCommit: string;
}

export function candidateOf(i: CandidateInput): CompareCandidate {
  return {
    runId: i.runId,
    agent: i.side.agent,
    ...(i.model ? { model: i.model } : {}),
    passed: i.status === 'PASS',
    reasons: [...i.reasons],
    gate: i.gate ?? 'not run',
    changes: i.changes.map((c) => ({ path: c.path, kind: c.kind })),
    diffLines: i.diffLines,
    tokens: tokensOf(i.spend),
    costUsd: i.costUsd,
    workspace: i.workspace,
    baseCommit: i.baseCommit,
  };
}

/**
 * `--pick auto`: the cheaper passing candidate; a tie in cost (to a millionth of a USD) goes to
 * the one with fewer diff lines, then to the first. Null when none passed.
 */
export function pickAuto(candidates: readonly CompareCandidate[]): number | null {
  let best: number | null = null;
  candidates.forEach((c, i) => {
    if (!c.passed) return;
    if (best === null) return void (best = i);
    const b = candidates[best];
    const cheaper = c.costUsd < b.costUsd - 1e-6;
    const tie = Math.abs(c.costUsd - b.costUsd) <= 1e-6;
    if (cheaper || (tie && c.diffLines < b.diffLines)) best = i;
  });
  return best;
}

/**
 * What a person's answer means: the index of a passing candidate, or null (none picked) with why.
 * A candidate that did not pass cannot be applied, whoever picks it.
 */
export function checkPick(candidates: readonly CompareCandidate[], answer: unknown): { picked: number | null; reason?: string } {
  if (answer === null || answer === undefined) return { picked: null, reason: 'no candidate picked' };
  if (typeof answer !== 'number' || !Number.isInteger(answer) || answer < 0 || answer >= candidates.length) return { picked: null, reason: `no candidate picked (the answer ${JSON.stringify(answer)} names none)` };
  const c = candidates[answer];
  if (!c.passed) return { picked: null, reason: `no candidate picked: ${c.agent}${c.model ? ` ${c.model}` : ''} (${c.runId}) did not pass its checks and cannot be applied` };
  return { picked: answer };
}

/** The reasons of a compare no candidate passed: each side's, named by its agent. */
export function bothReasons(candidates: readonly CompareCandidate[], sides: readonly CompareSide[]): string[] {
  return [
    'no candidate of the compare passed',
    ...candidates.flatMap((c, i) => (c.reasons.length ? c.reasons : ['did not pass']).map((r) => `${sides[i]?.side ?? i} (${c.agent}${c.model ? ` ${c.model}` : ''}, ${c.runId}): ${r}`)),
  ];
}
