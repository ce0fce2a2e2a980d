import * as vscode from 'vscode';
import { errorMessage } from '../../core/util/errors';
import type { ExtensionDeps } from '../deps';

/** `factory.log.show`: the target of every error notification's "Show Log" action. */
export function registerShowLogCommand(context: vscode.ExtensionContext, deps: ExtensionDeps): void {
  context.subscriptions.push(vscode.commands.registerCommand('factory.log.show', () => deps.log.show(true)));
}

/** A short error notification with a "Show Log" action; the detail goes to the log (STYLE 9). */
export async function showError(deps: ExtensionDeps, message: string, err?: unknown): Promise<void> {
  if (err !== undefined) deps.log.error(err instanceof Error ? err : errorMessage(err));
  const choice = await vscode.window.showErrorMessage(message, 'Show Log');
  if (choice === 'Show Log') deps.log.show(true);
}
