import * as vscode from 'vscode';
import { initWorkspace } from '../../core/init/scaffold';
import { FactoryError } from '../../core/util/errors';
import type { ExtensionDeps } from '../deps';
import { showError } from './show-log';

/**
 * `factory.workspace.init`: scaffolds `.factory/config.json` and the SSOT documents with the same
 * core function as `factory init`. It only writes new files (never overwrites) and runs nothing,
 * so it is allowed in an untrusted workspace too.
 */
export function registerInitWorkspaceCommand(context: vscode.ExtensionContext, deps: ExtensionDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('factory.workspace.init', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) {
        void vscode.window.showInformationMessage('Open a folder first: Initialize Workspace writes the SSOT documents into it.');
        return;
      }
      try {
        const written = await initWorkspace(folder.uri.fsPath);
        deps.log.info(`initialized ${folder.uri.fsPath}: ${written.join(', ')}`);
        await deps.store.refresh();
        const roadmap = written.find((p) => p.endsWith('.md'));
        if (roadmap) await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, roadmap), { preview: false });
        void vscode.window.showInformationMessage(`Factory workspace initialized: ${written.length} files written.`);
      } catch (err) {
        if (err instanceof FactoryError) {
          void vscode.window.showWarningMessage(err.message);
        } else {
          await showError(deps, 'Initializing the workspace failed.', err);
        }
      }
    }),
  );
}
