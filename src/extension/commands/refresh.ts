import * as vscode from 'vscode';
import type { ExtensionDeps } from '../deps';

/** `factory.ssot.refresh`: re-read the config and the SSOT documents now. */
export function registerRefreshCommand(context: vscode.ExtensionContext, deps: ExtensionDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('factory.ssot.refresh', async () => {
      await vscode.window.withProgress({ location: { viewId: 'factory.roadmap' } }, () => deps.store.refresh());
    }),
  );
}
