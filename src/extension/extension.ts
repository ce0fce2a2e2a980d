import * as vscode from 'vscode';

/** activate() is a table of contents: logger → config → core services → registerXxx(ctx, deps). */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Agentic Factory', { log: true });
  context.subscriptions.push(log);
  log.info('Agentic Factory activated');
}

export function deactivate(): void {}
