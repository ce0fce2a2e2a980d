/**
 * "Run With Two Agents…" (issue 20), the parts without `vscode`: the side specs the agent and
 * model picks make, one Quick Pick row per candidate (agent/model, Gate, files, diff lines,
 * tokens, cost, the cheapest passing one marked) and the files of a side-by-side diff. Plain mocha
 * tests it.
 */
import type { CompareCandidate } from '../../core/cycle/cycle-types';
import { pickAuto } from '../../core/cycle/compare/pick';

/** `agent` or `agent:model`, as `--compare` spells a side. */
export function sideSpec(agent: string, model?: string): string {
  return model ? `${agent}:${model}` : agent;
}

/** Why two sides cannot be compared (the same agent on the same model), or undefined. */
export function sidesProblem(a: string, b: string): string | undefined {
  return a.trim() === b.trim() ? `both sides are ${a}: pick another agent, or the same agent on another model` : undefined;
}

/** 12345 → "12.3k". */
export function shortCount(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(n);
}

export interface CandidateRow {
  label: string;
  description: string;
  detail: string;
  /** Only a candidate that passed every check can be applied. */
  pickable: boolean;
}

/** One row per candidate, in order; the cheapest passing one (`--pick auto`'s choice) says so. */
export function candidateRows(candidates: readonly CompareCandidate[]): CandidateRow[] {
  const cheapest = pickAuto(candidates);
  return candidates.map((c, i) => {
    const files = c.changes.length;
    const mark = i === cheapest ? ' · ★ cheapest passing' : '';
    return {
      label: `${c.passed ? '$(pass)' : '$(error)'} ${c.agent}${c.model ? ` · ${c.model}` : ''}`,
      description: `Gate ${c.gate} · ${files} file${files === 1 ? '' : 's'} · ${c.diffLines} diff line${c.diffLines === 1 ? '' : 's'}${mark}`,
      detail: `${shortCount(c.tokens.input)} tokens in / ${shortCount(c.tokens.output)} out · $${c.costUsd.toFixed(4)} · ${c.passed ? 'passed every check' : `not applicable: ${c.reasons[0] ?? 'did not pass'}`} · run ${c.runId}`,
      pickable: c.passed,
    };
  });
}

/** One file of a side-by-side diff of two candidates: each side's change kind (`unchanged`: the base file is in its tree). */
export interface PairEntry {
  path: string;
  a: string;
  b: string;
}

/** Every path either candidate changed, sorted, with each side's kind. */
export function diffPairs(a: CompareCandidate, b: CompareCandidate): PairEntry[] {
  const kinds = new Map<string, PairEntry>();
  for (const c of a.changes) kinds.set(c.path, { path: c.path, a: c.kind, b: 'unchanged' });
  for (const c of b.changes) kinds.set(c.path, { path: c.path, a: kinds.get(c.path)?.a ?? 'unchanged', b: c.kind });
  return [...kinds.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
