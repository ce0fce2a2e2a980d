import * as vscode from 'vscode';
import type { FactoryExtensionApi } from '../../src/extension/extension';
import type { SsotState } from '../../src/extension/ssot/ssot-store';

export const EXTENSION_ID = 'agentic-factory.agentic-factory';

/** The extension under test, activated, with its API. */
export async function factoryApi(): Promise<FactoryExtensionApi> {
  const ext = vscode.extensions.getExtension<FactoryExtensionApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed in this extension host`);
  return ext.activate();
}

/** The workspace folder the host opened (the e2e driver opens a copy of the example). */
export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri;
}

/** Resolves with the store's state once `accept` holds (now or after a change), or rejects. */
export async function waitForState(api: FactoryExtensionApi, accept: (s: SsotState) => boolean, timeoutMs = 15_000): Promise<SsotState> {
  if (accept(api.store.state)) return api.store.state;
  return new Promise<SsotState>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`store did not reach the expected state within ${timeoutMs} ms (now: ${api.store.state.kind})`));
    }, timeoutMs);
    const sub = api.store.onDidChange((s) => {
      if (!accept(s)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(s);
    });
  });
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
