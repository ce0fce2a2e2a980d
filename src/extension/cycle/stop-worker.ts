/**
 * "Factory: Stop Worker" (issue 18): with one cycle in flight it stops that one, as always; with
 * several it asks which — All, or one of them — unless the command names a run (a Runs row).
 * This window's cycles stop through its run (`stopOne`: the run's per-cycle abort; All: the
 * run's own abort); another Controller's through `stopCycle` (a signal or a stop request).
 */
import * as vscode from 'vscode';
import type { FactoryConfig } from '../../core/config/schema';
import { listCycleStates } from '../../core/cycle/cycle-state';
import { stopCycle, type StopResult } from '../../core/cycle/stop';
import { stopArgRunId, stopPickItems, stopTargets, type StopTarget } from './stop-targets';
import type { LiveCycle } from '../panels/run/live-runs';

export interface StopContext {
  /** This window's operation: its label, and whether it is a factory run (cycles in `inFlight`). */
  op: { label: string; abortAll(): void } | undefined;
  inFlight: readonly LiveCycle[];
  workspace: { root: string; config: FactoryConfig } | undefined;
  /** Stop one of this window's cycles (the others go on). */
  stopOne(runId: string): Promise<void>;
}

export type StopAnswer = StopResult | { stopped: string } | { error: string };

/** Which cycle(s) to stop: the argument's run, the only one, or the user's pick (undefined: dismissed). */
async function chooseTarget(targets: readonly StopTarget[], arg: unknown): Promise<StopTarget | 'all' | undefined> {
  const named = stopArgRunId(arg);
  const found = named ? targets.find((t) => t.runId === named) : undefined;
  if (found) return found;
  if (targets.length < 2) return 'all';
  const pick = await vscode.window.showQuickPick(stopPickItems(targets), { title: 'Factory: Stop Worker', placeHolder: `${targets.length} cycles are running — stop which?` });
  if (!pick) return undefined;
  return pick.value === 'all' ? 'all' : targets.find((t) => t.runId === pick.value);
}

export async function stopWorker(ctx: StopContext, arg?: unknown): Promise<StopAnswer> {
  const ws = ctx.workspace;
  const external = !ctx.op && ws ? listCycleStates(ws.root, ws.config.paths.autopilot) : [];
  const targets = stopTargets(ctx.op ? ctx.inFlight : [], external);
  const target = await chooseTarget(targets, arg);
  if (!target) return { stopped: '' };
  if (ctx.op) {
    if (target === 'all') {
      ctx.op.abortAll();
      return { stopped: ctx.op.label };
    }
    await ctx.stopOne(target.runId);
    void vscode.window.showInformationMessage(`Factory: stopping ${target.ticketId ?? target.runId} (run ${target.runId}); the other cycles go on.`);
    return { stopped: target.runId };
  }
  if (!ws) {
    void vscode.window.showInformationMessage('Factory: no cycle is running.');
    return { stopped: '' };
  }
  const one = target === 'all' ? {} : { runId: target.runId };
  const out = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Factory: stopping ${target === 'all' ? 'the cycles' : target.ticketId ?? target.runId}…` }, () =>
    stopCycle(ws.root, ws.config, { waitMs: 30_000, ...one }),
  );
  void vscode.window.showInformationMessage(stoppedMessage(out));
  return out;
}

/** What a stop of another Controller's cycles did, in one line. */
function stoppedMessage(out: StopResult): string {
  if (!out.runId) return 'Factory: no cycle is running.';
  const names = out.cycles.length > 1 ? `${out.cycles.length} cycles (${out.cycles.map((c) => c.ticketId).join(', ')})` : `${out.ticketId} run ${out.runId} (${out.phase})`;
  return `Factory: stopped ${names}${out.finished ? ': recorded ABORTED' : `: ${out.containersRemoved} container(s) removed; the next start records it ABORTED`}.`;
}
