import * as vscode from 'vscode';
import { loadConfig } from '../../core/config/load';
import { indexWorkspace } from '../../core/ssot/workspace';
import type { SsotServices } from './ssot-store';

/**
 * The real core behind the store. In an untrusted workspace the index skips the git comparison
 * (deleted ACs vs HEAD): running git in a repository we do not trust could run its configured
 * helpers (fsmonitor, filters), and Restricted Mode promises that nothing runs.
 */
export function coreSsotServices(): SsotServices {
  return {
    loadConfig,
    indexWorkspace: (root, config, { signal }) => indexWorkspace(root, config, { signal, git: vscode.workspace.isTrusted }),
  };
}
