import * as vscode from 'vscode';
import { registerBackendCommand } from './commands/backend-command';
import { registerCycleCommands } from './commands/cycle-commands';
import { registerInitWorkspaceCommand } from './commands/init-workspace';
import { registerRefreshCommand } from './commands/refresh';
import { registerShowLogCommand } from './commands/show-log';
import { registerShowStatusCommand } from './commands/show-status';
import { FactoryRunner } from './cycle/factory-runner';
import { registerPanels } from './panels/register-panels';
import type { ExtensionDeps } from './deps';
import { SsotDiagnostics } from './diagnostics/ssot-diagnostics';
import { coreSsotServices } from './ssot/core-services';
import { SsotStore } from './ssot/ssot-store';
import { runExtHostTestsIfRequested } from './testing/exthost-tests-hook';
import { AcQueueView } from './views/ac-queue/ac-queue-view';
import { PlanScopeDecorations } from './decorations/plan-scope-decorations';
import { registerRunsView, type RunsView } from './views/runs/runs-view';
import { RoadmapView } from './views/roadmap/roadmap-view';

/** What activate() returns: the live objects, for the extension-host tests and other extensions. */
export interface FactoryExtensionApi {
  readonly store: SsotStore;
  readonly roadmap: RoadmapView;
  readonly acQueue: AcQueueView;
  readonly runs: RunsView;
  readonly planScope: PlanScopeDecorations;
  /** The window's one Factory operation at a time (cycle, Gate, audit), its review and its last outcome. */
  readonly runner: FactoryRunner;
  /** activate() entered → the first index read and handed to the views (ms), once known. */
  readonly activation: { treesPopulatedMs?: number };
}

/** activate() is a table of contents: logger → config → core services → registerXxx(ctx, deps). */
export function activate(context: vscode.ExtensionContext): FactoryExtensionApi {
  const t0 = performance.now();
  const activation: { treesPopulatedMs?: number } = {};
  // Logger first, so everything after it can report.
  const log = own(context, vscode.window.createOutputChannel('Agentic Factory', { log: true }));
  log.info(`Agentic Factory ${String(context.extension.packageJSON.version)} activating (workspace trusted: ${vscode.workspace.isTrusted})`);

  // Config and core services: the store reads .factory/config.json and the SSOT documents.
  const store = own(context, new SsotStore(coreSsotServices(), log));
  const deps: ExtensionDeps = { log, store };

  // Views and diagnostics.
  const roadmap = own(context, new RoadmapView(store));
  const acQueue = own(context, new AcQueueView(store));
  own(context, new SsotDiagnostics(store));
  const runs = registerRunsView(context, deps);
  const planScope = own(context, new PlanScopeDecorations(store, log));

  // Commands.
  registerRefreshCommand(context, deps);
  registerShowStatusCommand(context, deps);
  registerInitWorkspaceCommand(context, deps);
  registerShowLogCommand(context, deps);
  const panels = registerPanels(context, deps);
  runs.setLive(panels.live, panels.onDidChangeLive);
  const runner = own(context, new FactoryRunner(deps, panels, context.secrets, context.extensionUri));
  registerCycleCommands(context, deps, runner);
  registerBackendCommand(context, deps, runner);

  // Trusting the folder enables the git-based checks (deleted ACs); re-index to show them.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => store.scheduleRefresh()));
  // The first state handed to the views ends activation's visible work.
  const first = store.onDidChange((s) => {
    first.dispose();
    activation.treesPopulatedMs = Math.round(performance.now() - t0);
    log.info(`activation → trees populated (${s.kind}) in ${activation.treesPopulatedMs} ms`);
  });
  context.subscriptions.push(first);
  void store.refresh();

  runExtHostTestsIfRequested(log);
  return { store, roadmap, acQueue, runner, activation, runs, planScope };
}

export function deactivate(): void {}

function own<T extends vscode.Disposable>(context: vscode.ExtensionContext, item: T): T {
  context.subscriptions.push(item);
  return item;
}
