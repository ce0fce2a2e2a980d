import * as vscode from 'vscode';
import type { SsotState, SsotStore } from '../../ssot/ssot-store';
import { DisposableStore } from '../../util/disposable-store';
import { openSourceCommand, rowTreeItem } from '../tree-item';
import { buildQueueRows, type QueueRow } from './ac-queue-model';

/** The view id in package.json. */
export const AC_QUEUE_VIEW_ID = 'factory.acQueue';

/** The AC Queue view: open ACs in the order the Controller takes them (spec §8-3), the next one marked. Owns its TreeView. */
export class AcQueueView extends DisposableStore implements vscode.TreeDataProvider<QueueRow> {
  private readonly changed = this.add(new vscode.EventEmitter<QueueRow | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private rows: QueueRow[] = [];
  private root: vscode.Uri | undefined;
  readonly view: vscode.TreeView<QueueRow>;

  constructor(store: SsotStore) {
    super();
    this.view = this.add(vscode.window.createTreeView(AC_QUEUE_VIEW_ID, { treeDataProvider: this }));
    this.add(store.onDidChange((state) => this.update(state)));
    this.update(store.state);
  }

  private update(state: SsotState): void {
    if (state.kind === 'ready') {
      this.root = state.root;
      this.rows = buildQueueRows(state.index);
      const blocked = this.rows.filter((r) => r.blocked).length;
      this.view.description = `${this.rows.length - blocked} open${blocked ? ` · ${blocked} blocked` : ''}`;
      // An index with ACs but none OPEN is a finished queue, not an empty workspace: say so.
      this.view.message = this.rows.length === 0 && state.index.ledger.length > 0 ? 'Every AC in the ledger is done.' : undefined;
    } else {
      this.rows = [];
      this.view.description = undefined;
      this.view.message = undefined;
    }
    this.changed.fire(undefined);
  }

  /** The rows currently shown (the extension-host tests read them through the extension's API). */
  get currentRows(): readonly QueueRow[] {
    return this.rows;
  }

  getChildren(element?: QueueRow): QueueRow[] {
    return element ? [] : this.rows;
  }

  getTreeItem(row: QueueRow): vscode.TreeItem {
    const item = rowTreeItem(row);
    if (this.root) item.command = openSourceCommand(this.root, row.ac.source);
    return item;
  }
}
