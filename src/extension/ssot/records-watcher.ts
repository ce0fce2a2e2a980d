import * as vscode from 'vscode';
import { samePaths, type FactoryPaths } from './factory-paths';

/**
 * One owner for the file watchers over `globs` in `folder` (relative patterns): every create,
 * change or delete calls `onEvent` (callers debounce). Dispose it to stop them all.
 */
export function watchGlobs(folder: vscode.WorkspaceFolder, globs: readonly string[], onEvent: () => void): vscode.Disposable {
  const watchers = globs.map((g) => vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, g)));
  const subs = watchers.flatMap((w) => [w.onDidCreate(onEvent), w.onDidChange(onEvent), w.onDidDelete(onEvent)]);
  return vscode.Disposable.from(...watchers, ...subs);
}

/**
 * Watches the Controller's record files (`globs(paths)`: plan.json, history.jsonl, evidence runs)
 * in the workspace folder of the current paths; the watchers are recreated only when the paths
 * move (a config change), never on every refresh.
 */
export class RecordsWatcher implements vscode.Disposable {
  private watcher: vscode.Disposable | undefined;
  private watched: FactoryPaths | undefined;

  constructor(
    private readonly globs: (paths: FactoryPaths) => string[],
    private readonly onEvent: () => void,
  ) {}

  follow(paths: FactoryPaths | undefined): void {
    if (this.watcher && samePaths(paths, this.watched)) return;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.watched = paths;
    const folder = paths && vscode.workspace.getWorkspaceFolder(paths.root);
    if (!paths || !folder) return;
    this.watcher = watchGlobs(folder, this.globs(paths), this.onEvent);
  }

  dispose(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
  }
}
