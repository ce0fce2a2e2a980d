import type * as vscode from 'vscode';
import type { SsotStore } from './ssot/ssot-store';

/** What features get from activate(): the log and the core services, never the raw context. */
export interface ExtensionDeps {
  log: vscode.LogOutputChannel;
  store: SsotStore;
}
