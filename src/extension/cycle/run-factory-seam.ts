/**
 * TEMPORARY seam until src/core/cycle/parallel/run-factory.ts lands (helper T5a): a serial
 * stand-in with runFactory's signature, so the editor's run path is built and tested on it.
 */
import { runCycle } from '../../core/cycle/orchestrator';
import type { CycleDeps, CycleOutcome } from '../../core/cycle/cycle-types';
import type { FactoryRunOptions, FactoryRunResult } from '../../core/cycle/parallel/factory-types';

export async function runFactory(opts: FactoryRunOptions, deps: CycleDeps): Promise<FactoryRunResult> {
  const { parallel: _p, maxCycles, batchBudgetUsd: _b, ...cycle } = opts;
  const outcomes: CycleOutcome[] = [];
  for (let i = 0; i < maxCycles && !deps.signal?.aborted; i++) outcomes.push(await runCycle({ ...cycle, baseline: i === 0 ? (opts.baseline ?? 'run') : 'skip' }, deps));
  return { outcomes, stoppedBy: 'max-cycles', message: '', spentUsd: outcomes.reduce((a, o) => a + o.costUsd, 0) };
}
