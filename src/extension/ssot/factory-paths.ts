import type * as vscode from 'vscode';
import { defaultConfigFast } from '../../core/config/load';
import type { SsotState } from './ssot-store';

/** Where the Controller's records are in the open workspace (`config.paths`, repo-relative). */
export interface FactoryPaths {
  root: vscode.Uri;
  /** `plan.json`, `history.jsonl`, … (default `logs/autopilot`). */
  autopilot: string;
  /** One folder per evidence run (default `logs/evidence`). */
  evidence: string;
}

/**
 * The record folders for a store state: the config's when it was read, the defaults when the
 * folder has no usable config (runs and plans may exist before the SSOT documents do), nothing
 * without a folder.
 */
export function factoryPaths(state: SsotState): FactoryPaths | undefined {
  switch (state.kind) {
    case 'ready':
      return { root: state.root, autopilot: state.config.paths.autopilot, evidence: state.config.paths.evidence };
    case 'missing':
    case 'error': {
      const { paths } = defaultConfigFast();
      return { root: state.root, autopilot: paths.autopilot, evidence: paths.evidence };
    }
    default:
      return undefined;
  }
}

/** Whether two path sets name the same folders (watchers are only recreated when they do not). */
export function samePaths(a: FactoryPaths | undefined, b: FactoryPaths | undefined): boolean {
  return a?.root.toString() === b?.root.toString() && a?.autopilot === b?.autopilot && a?.evidence === b?.evidence;
}
