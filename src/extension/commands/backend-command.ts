/**
 * "Factory: Check Execution Backend" (issue 19): the checks of the backend this window's runs use
 * (`factory.engine.backend`, else the config's `engine.backend`) — engine, swarm manager, nodes
 * with the Worker image, network — as a Quick Pick of ✓/✗ rows with each fix, and the same lines
 * in the Factory log. `factory doctor` is the CLI's twin. The rows are vscode-free (backend-items.ts).
 */
import * as vscode from 'vscode';
import type { BackendReport } from '../../core/backend/run-checks';
import { backendSource, checkItems } from './backend-items';
import type { ExtensionDeps } from '../deps';
import { readRunSettings, type FactoryRunner } from '../cycle/factory-runner';

export const CHECK_BACKEND_COMMAND = 'factory.backend.check';

async function checkBackendCommand(deps: ExtensionDeps, runner: FactoryRunner): Promise<BackendReport | undefined> {
  const ws = await runner.ready('Check Execution Backend', false);
  if ('refused' in ws) return undefined;
  const setting = readRunSettings(ws.root).backend;
  const { checkBackend, reportLines } = await import('../../core/backend/run-checks');
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Factory: checking the execution backend', cancellable: true },
    (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return checkBackend(ws.root, ws.config, { ...(setting ? { backend: setting } : {}), signal: abort.signal });
    },
  );
  for (const line of reportLines(report)) {
    if (report.ok) deps.log.info(line);
    else deps.log.warn(line);
  }
  const pick = await vscode.window.showQuickPick(checkItems(report, backendSource(setting)), {
    title: 'Factory: Check Execution Backend',
    placeHolder: report.ok ? 'Every check passed' : 'What is missing, and how to fix it (docs/scale.md); pick a row to copy its fix',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (pick?.detail) await vscode.env.clipboard.writeText(pick.detail.replace(/^Fix: /, ''));
  return report;
}

export function registerBackendCommand(context: vscode.ExtensionContext, deps: ExtensionDeps, runner: FactoryRunner): void {
  context.subscriptions.push(vscode.commands.registerCommand(CHECK_BACKEND_COMMAND, () => checkBackendCommand(deps, runner)));
}
