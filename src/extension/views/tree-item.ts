import * as vscode from 'vscode';
import type { SourceRef } from '../../core/ssot/model';
import type { IconSpec, RowView } from './status-icon';

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

