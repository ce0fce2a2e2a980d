import * as vscode from 'vscode';
import { registerInitWorkspaceCommand } from './commands/init-workspace';
import { registerRefreshCommand } from './commands/refresh';
import { registerShowLogCommand } from './commands/show-log';
import { registerShowStatusCommand } from './commands/show-status';
import { registerPanels } from './panels/register-panels';
import type { ExtensionDeps } from './deps';
import { SsotDiagnostics } from './diagnostics/ssot-diagnostics';
import { coreSsotServices } from './ssot/core-services';
import { SsotStore } from './ssot/ssot-store';
import { runExtHostTestsIfRequested } from './testing/exthost-tests-hook';
import { AcQueueView } from './views/ac-queue/ac-queue-view';
import { RoadmapView } from './views/roadmap/roadmap-view';

/** What activate() returns: the live objects, for the extension-host tests and other extensions. */
export interface FactoryExtensionApi {
  readonly store: SsotStore;
  readonly roadmap: RoadmapView;
  readonly acQueue: AcQueueView;
}

/** activate() is a table of contents: logger → config → core services → registerXxx(ctx, deps). */
export function activate(context: vscode.ExtensionContext): FactoryExtensionApi {
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

  // Commands.
  registerRefreshCommand(context, deps);
  registerShowStatusCommand(context, deps);
  registerInitWorkspaceCommand(context, deps);
  registerShowLogCommand(context, deps);
  registerPanels(context, deps);

  // Trusting the folder enables the git-based checks (deleted ACs); re-index to show them.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => store.scheduleRefresh()));
  void store.refresh();

  runExtHostTestsIfRequested(log);
  return { store, roadmap, acQueue };
}

export function deactivate(): void {}

function own<T extends vscode.Disposable>(context: vscode.ExtensionContext, item: T): T {
  context.subscriptions.push(item);
  return item;
}
