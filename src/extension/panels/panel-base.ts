import * as vscode from 'vscode';
import { loadConfig } from '../../core/config/load';
import type { FactoryConfig } from '../../core/config/schema';
import type { WebviewMessage } from '../../shared/protocol';
import type { ExtensionDeps } from '../deps';
import { DisposableStore } from '../util/disposable-store';
import { WebviewChannel, type SecretsSource } from './webview-channel';
import { renderWebviewHtml, webviewPanelOptions, type WebviewKind } from './webview-html';

/** What every panel needs from activate(). */
export interface PanelDeps extends ExtensionDeps {
  extensionUri: vscode.Uri;
  /** Secrets to redact from everything a panel shows (SECURITY 25). */
  secrets: SecretsSource;
}

/** The folder the bundle and its assets live in: the ONLY local resource root of a panel. */
export function bundleDir(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

/** Creates a panel with the Factory webview options (or re-applies them to a restored one). */
export function createPanel(viewType: string, title: string, deps: PanelDeps): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, webviewPanelOptions(bundleDir(deps.extensionUri)));
}

/** The workspace root and its config: the store's when it is ready, else read now. */
export async function workspaceConfig(deps: PanelDeps): Promise<{ root: string; config: FactoryConfig } | undefined> {
  const s = deps.store.state;
  if (s.kind === 'ready') return { root: s.root.fsPath, config: s.config };
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || folder.uri.scheme !== 'file') return undefined;
  const { config } = await loadConfig(folder.uri.fsPath);
  return { root: folder.uri.fsPath, config };
}

/**
 * One webview panel: HTML from the shared helper (fresh nonce per render), a validated and
 * redacting message channel, and disposal of everything it owns when the panel closes.
 */
export abstract class FactoryPanel extends DisposableStore {
  protected readonly channel: WebviewChannel;

  constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly deps: PanelDeps,
    kind: WebviewKind,
    title: string,
  ) {
    super();
    const webview = panel.webview;
    // Restored panels come back with the options they were saved with; set ours again.
    webview.options = webviewPanelOptions(bundleDir(deps.extensionUri));
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'factory.svg');
    this.channel = this.add(new WebviewChannel(webview, deps.log, deps.secrets, (m) => this.onMessage(m)));
    webview.html = renderWebviewHtml({
      kind,
      title,
      cspSource: webview.cspSource,
      asset: (f) => webview.asWebviewUri(vscode.Uri.joinPath(bundleDir(deps.extensionUri), f)).toString(),
    });
    this.add(panel.onDidDispose(() => this.dispose()));
  }

  protected abstract onMessage(m: WebviewMessage): void | Promise<void>;

  override dispose(): void {
    if (this.isDisposed) return;
    super.dispose();
    this.panel.dispose();
  }
}
