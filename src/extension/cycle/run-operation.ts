/**
 * "Factory: Run" as one factory run (issue 18): the options `runFactory` gets from the window's
 * settings (`factory.parallel`, the Worker override, the replay folder) and the words the user
 * sees about it. No `vscode` here: plain mocha tests it.
 */
import { withBackend } from '../../core/backend/run-checks';
import { loadConfigStrict } from '../../core/config/load';
import type { FactoryRunOptions, FactoryRunResult } from '../../core/cycle/parallel/factory-types';
import { baselineLine } from '../../core/cycle/baseline';
import type { CycleDeps, CycleEvent, CycleOutcome } from '../../core/cycle/cycle-types';
import type { ProviderKeys } from '../../core/gateway/gateway';
import { overrideSource, type RunSettings } from './run-settings';

export interface RunRequest {
  /** One ticket ("Run This Ticket"): parallel does not apply. */
  ticket?: string;
  /** The "Run anyway" of a red baseline. */
  acceptRedBaseline?: boolean;
  /** "Run With Two Agents…" (issue 20): the ticket on both sides, one applied; each side names its agent (and model). */
  compare?: { agents: [string, string]; pick: 'auto' | 'ask' };
}

/**
 * The run's options: up to `factory.parallel` cycles in flight and as many cycles in all (one per
 * slot — `parallel: 1` is exactly the one cycle "Run" always started); one ticket runs alone.
 */
export function factoryRunOptions(root: string, settings: RunSettings, req: RunRequest, keys: ProviderKeys, runtimeFile: string): FactoryRunOptions {
  const parallel = req.ticket || req.compare ? 1 : settings.parallel;
  // A compare's sides name their agents: the window's override would contradict them.
  const source = req.compare ? undefined : overrideSource(settings);
  return {
    root,
    parallel,
    maxCycles: parallel,
    baseline: 'run',
    ...(req.acceptRedBaseline ? { acceptRedBaseline: true } : {}),
    ...(req.ticket ? { ticket: req.ticket } : {}),
    ...(req.compare ? { compare: req.compare } : {}),
    ...(settings.agent && !req.compare ? { agent: settings.agent } : {}),
    ...(settings.model && !req.compare ? { model: settings.model } : {}),
    // plan.json records the override as the editor's choice, not as CLI flags.
    ...(source ? { overrideSource: source } : {}),
    ...(settings.replayDir ? { replayDir: settings.replayDir } : {}),
    keys,
    runtimeFile,
  };
}

/**
 * The run's options with the window's `factory.engine.backend` applied: the config read as the
 * run reads it (strictly), with that backend; without the setting the run reads the config itself.
 */
export async function withEditorBackend(opts: FactoryRunOptions, settings: Pick<RunSettings, 'backend'>): Promise<FactoryRunOptions> {
  if (!settings.backend) return opts;
  const { config } = await loadConfigStrict(opts.root);
  return { ...opts, config: withBackend(config, settings.backend) };
}

/** The progress notification's title: what runs, and how many at once. */
export function runLabel(req: RunRequest, parallel: number): string {
  if (req.compare) return `Run ${req.ticket ?? 'the next ticket'} with ${req.compare.agents.join(' and ')}`;
  if (req.ticket) return `Run ${req.ticket}`;
  return parallel > 1 ? `Run ${parallel} cycles in parallel` : 'Run the next ticket';
}

/** One line about a run of several cycles: the verdicts, the spend, why it stopped. */
export function runSummary(r: Pick<FactoryRunResult, 'outcomes' | 'spentUsd' | 'message'>): string {
  const counts = new Map<string, number>();
  for (const o of r.outcomes) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  const verdicts = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  const tickets = r.outcomes.map((o: CycleOutcome) => `${o.ticketId} ${o.status}`).join(', ');
  return `Factory: ${r.outcomes.length} cycle${r.outcomes.length === 1 ? '' : 's'} — ${verdicts || 'none'} (${tickets}), $${r.spentUsd.toFixed(4)}.${r.message ? ` ${r.message}` : ''}`;
}

/** The notification's one-line progress for a cycle event (`inFlight` > 1: a parallel run, said per ticket). */
export function progressMessage(e: CycleEvent, inFlight = 1): string | undefined {
  if (inFlight > 1) return parallelProgress(e, inFlight);
  switch (e.type) {
    case 'plan':
      return `${e.plan.ticket_id}: ${e.plan.ac_ids.join(', ')} (risk ${e.plan.risk_level})`;
    case 'phase':
      return { PLAN: 'planning', DO: 'the Worker is running in the sandbox', CHECK: 'checking scope, Gate and evidence', ADJUST: 'applying, recording, committing' }[e.phase];
    case 'review':
      return `waiting for your review of ${e.changes} changed file(s)`;
    case 'recovered':
      return 'finished an interrupted cycle';
    case 'baseline':
      return baselineLine(e.report);
    default:
      return undefined;
  }
}

/** A parallel run's progress: how many are in flight, and what just happened to which cycle. */
function parallelProgress(e: CycleEvent, inFlight: number): string | undefined {
  const n = `${inFlight} in flight`;
  switch (e.type) {
    case 'plan':
      return `${n} · started ${e.plan.ticket_id}`;
    case 'end':
      return `${n} · ${e.outcome.ticketId} ${e.outcome.status}`;
    case 'waiting':
      return `${n} · ${e.ticketId} waits (scope overlaps)`;
    case 'merge':
      return e.step === 'committed' ? `${n} · committed ${e.runId}` : undefined;
    case 'review':
      return `${n} · waiting for your review of ${e.changes} changed file(s)`;
    default:
      return undefined;
  }
}

/** How "Run" starts beyond its ticket: "Run anyway" of a red baseline, a compare and its pick hook. */
export interface RunStart {
  acceptRedBaseline?: boolean;
  compare?: RunRequest['compare'];
  /** The compare's pick hook for the run's signal (a stop closes the pick). */
  picker?: (signal: AbortSignal) => NonNullable<CycleDeps['pickCandidate']>;
}
