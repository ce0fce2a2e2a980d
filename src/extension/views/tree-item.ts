import * as vscode from 'vscode';
import type { SourceRef } from '../../core/ssot/model';
import type { IconSpec } from './status-icon';

/** A ThemeIcon (codicon + theme colour) from the view-independent icon spec. */
export function themeIcon(icon: IconSpec): vscode.ThemeIcon {
  return icon.color ? new vscode.ThemeIcon(icon.id, new vscode.ThemeColor(icon.color)) : new vscode.ThemeIcon(icon.id);
}

/** Clicking a row opens the document at the line the item was read from. */
export function openSourceCommand(root: vscode.Uri, source: SourceRef | undefined): vscode.Command | undefined {
  if (!source) return undefined;
  const line = Math.max(0, source.line - 1);
  return {
    command: 'vscode.open',
    title: 'Open in Document',
    arguments: [vscode.Uri.joinPath(root, source.file), { selection: new vscode.Range(line, 0, line, 0), preview: true }],
  };
}

/** What every row model of our trees carries (built without `vscode`, unit-tested). */
export interface RowView {
  key: string;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  contextValue: string;
}

/** The TreeItem for a row: stable id (keeps expansion state), texts, themed icon, context value. */
export function rowTreeItem(row: RowView, collapsible = vscode.TreeItemCollapsibleState.None): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label, collapsible);
  item.id = row.key;
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.iconPath = themeIcon(row.icon);
  item.contextValue = row.contextValue;
  return item;
}

/**
 * One owner for the file watchers over `globs` in `folder` (relative patterns): every create,
 * change or delete calls `onEvent` (callers debounce). Dispose it to stop them all.
 */
export function watchGlobs(folder: vscode.WorkspaceFolder, globs: readonly string[], onEvent: () => void): vscode.Disposable {
  const watchers = globs.map((g) => vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, g)));
  const subs = watchers.flatMap((w) => [w.onDidCreate(onEvent), w.onDidChange(onEvent), w.onDidDelete(onEvent)]);
  return vscode.Disposable.from(...watchers, ...subs);
}
