/**
 * `factory run --compare A,B [--pick auto|ask]` (issue 20 item 2): the flags' check, the question
 * on the terminal (`--pick ask`), and the side-by-side table of both candidates with what was
 * applied. The core runs the compare (core/cycle/compare/run-compare.ts).
 */
import type { CompareCandidate, CycleOutcome } from '../core/cycle/cycle-types';
import type { FactoryRunResult } from '../core/cycle/parallel/factory-types';

/** What `factory run` needs for a compare: the core's option, the picker (ask), and the report. */
export interface CompareCli {
  compare: { agents: [string, string]; pick: 'auto' | 'ask' };
  pickCandidate?: (candidates: CompareCandidate[]) => Promise<number | null>;
  /** Print the outcome (table, or one JSON line); the exit code. */
  report: (result: FactoryRunResult) => number;
}

/**
 * The flags of a compare, checked before anything runs.
 * @throws FactoryError `usage` for a bad --pick, or --pick ask without a terminal; `compare.invalid` for a --compare that is not two names.
 */
export async function compareCli(spec: string, pick: string, io: { json: boolean; line: (o: CycleOutcome) => string; jsonOf: (o: CycleOutcome) => Record<string, unknown>; signal?: AbortSignal }): Promise<CompareCli> {
  const { FactoryError } = await import('../core/util/errors');
  if (pick !== 'auto' && pick !== 'ask') throw new FactoryError(`--pick must be auto or ask, got "${pick}"`, 'usage');
  const agents = spec.split(',').map((s) => s.trim());
  if (agents.length !== 2 || agents.some((a) => !a)) throw new FactoryError(`--compare needs two agents, A,B (each agent or agent:model), got "${spec}"`, 'compare.invalid');
  if (pick === 'ask' && !(process.stdin.isTTY && process.stderr.isTTY)) {
    throw new FactoryError('--pick ask asks on the terminal, and there is none here: pass --pick auto (the cheaper passing side is applied)', 'usage');
  }
  return {
    compare: { agents: [agents[0], agents[1]], pick },
    ...(pick === 'ask' ? { pickCandidate: (c: CompareCandidate[]) => askPick(c, io.signal) } : {}),
    report: (result) => {
      const o = result.outcomes[0];
      if (io.json) {
        if (o) process.stdout.write(JSON.stringify({ ...io.jsonOf(o), compare: o.compare ?? null }) + '\n');
      } else {
        if (o?.compare) process.stdout.write(compareTable(o.compare.candidates, o.compare.picked) + '\n');
        if (o) process.stdout.write(io.line(o));
        if (result.message) process.stdout.write(`${result.message}\n`);
      }
      return !o || o.status === 'PASS' ? 0 : 1;
    },
  };
}

const SIDE = ['a', 'b'];

/** Both candidates side by side: agent, model, Gate, files, diff lines, tokens, cost, verdict; the applied one marked. */
export function compareTable(candidates: readonly CompareCandidate[], picked: number | null): string {
  const head = ['side', 'agent', 'model', 'Gate', 'files', 'diff lines', 'tokens in/out', 'cost', 'verdict'];
  const rows = candidates.map((c, i) => [
    `${SIDE[i] ?? String(i)}${picked === i ? ' *' : ''}`,
    c.agent,
    c.model ?? '-',
    c.gate,
    String(c.changes.length),
    String(c.diffLines),
    `${c.tokens.input}/${c.tokens.output}`,
    `$${c.costUsd.toFixed(4)}`,
    c.passed ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: readonly string[]) => cells.map((c, k) => c.padEnd(widths[k])).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const [i, c] of candidates.entries()) for (const r of c.passed ? [] : c.reasons.slice(0, 5)) out.push(`  ${SIDE[i] ?? i}: ${r}`);
  const p = picked === null ? undefined : candidates[picked];
  out.push(p ? `applied: ${SIDE[picked!]} (${p.agent}${p.model ? ` ${p.model}` : ''}, run ${p.runId}); the other side was not applied (its evidence is kept, uncommitted)` : 'applied: none');
  return out.join('\n');
}

/** What the person typed: a side's index, null for none, undefined when it is no answer. */
export function parseAnswer(text: string, candidates: readonly CompareCandidate[]): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'n' || t === '-') return null;
  const i = SIDE.indexOf(t) >= 0 ? SIDE.indexOf(t) : /^[12]$/.test(t) ? Number(t) - 1 : -1;
  return i >= 0 && i < candidates.length && candidates[i].passed ? i : undefined;
}

/** `--pick ask`: the table on stderr, then "apply which?" until a passing side or none is named. */
async function askPick(candidates: CompareCandidate[], signal?: AbortSignal): Promise<number | null> {
  const readline = await import('node:readline/promises');
  process.stderr.write(compareTable(candidates, null).replace(/\napplied: none$/, '') + '\n');
  const passing = candidates.flatMap((c, i) => (c.passed ? [SIDE[i]] : [])).join('/');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (;;) {
      const answer = parseAnswer(await rl.question(`Apply which candidate? [${passing}/none]: `, signal ? { signal } : {}), candidates);
      if (answer !== undefined) return answer;
      process.stderr.write(`answer one of ${passing}, or none\n`);
    }
  } finally {
    rl.close();
  }
}
