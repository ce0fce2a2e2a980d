import * as vscode from 'vscode';
import type { SsotIndex, SourceRef } from '../../core/ssot/model';
import { computeStatus, type QueueItem, type StatusReport } from '../../core/ssot/status';
import type { ExtensionDeps } from '../deps';

/** One Quick Pick row; `source` (when set) is opened on accept, `command` run otherwise. */
export interface StatusPickItem extends vscode.QuickPickItem {
  source?: SourceRef;
  command?: string;
}

function counts(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(' · ');
}

/**
 * The status report (the same `computeStatus` the CLI's `factory status` prints) as Quick Pick
 * rows: progress, the queue pointer and the next three, tickets by status, problems.
 */
export function statusPickItems(report: StatusReport, index: SsotIndex): StatusPickItem[] {
  const sourceOf = (item: QueueItem): SourceRef | undefined => index.ledger.find((ac) => ac.id === item.acId)?.source ?? index.tickets.flatMap((t) => t.acs).find((ac) => ac.id === item.acId)?.source;
  const queueItem = (item: QueueItem, icon: string, detail: string): StatusPickItem => {
    const source = sourceOf(item);
    return { label: `$(${icon}) ${item.acId}`, description: item.title, detail, ...(source ? { source } : {}) };
  };
  const items: StatusPickItem[] = [
    { label: 'Progress', kind: vscode.QuickPickItemKind.Separator },
    { label: `$(checklist) ${report.acs.done}/${report.acs.total} ACs done`, description: counts(report.acs.byStatus) },
    { label: `$(milestone) ${report.tickets.done}/${report.tickets.total} tickets done`, description: counts(report.tickets.byStatus) },
    { label: `Queue (${report.queueSource})`, kind: vscode.QuickPickItemKind.Separator },
  ];
  if (report.next) items.push(queueItem(report.next, 'debug-stackframe', `next · ticket ${report.next.ticketId}`));
  else items.push({ label: '$(pass-filled) No OPEN AC: the queue is empty' });
  for (const item of report.upcoming) items.push(queueItem(item, 'circle-large-outline', `ticket ${item.ticketId}`));
  items.push({ label: 'Problems', kind: vscode.QuickPickItemKind.Separator });
  const { errors, warnings, infos } = report.problems;
  items.push({
    label: `$(${errors ? 'error' : warnings ? 'warning' : 'pass'}) ${errors} errors, ${warnings} warnings, ${infos} infos`,
    description: 'Show in the Problems panel',
    command: 'workbench.actions.view.problems',
  });
  return items;
}

/** `factory.status.show`: the status report in a Quick Pick; picking a row opens its source. */
export function registerShowStatusCommand(context: vscode.ExtensionContext, deps: ExtensionDeps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('factory.status.show', async () => {
      const state = deps.store.state.kind === 'loading' ? await deps.store.refresh() : deps.store.state;
      if (state.kind !== 'ready') {
        const message =
          state.kind === 'missing' ? 'This folder has no SSOT documents. Run "Factory: Initialize Workspace" first.'
          : state.kind === 'noFolder' ? 'Open a folder with SSOT documents first.'
          : state.kind === 'error' ? `The SSOT documents could not be read: ${state.message}`
          : 'The SSOT documents are still being read.';
        void vscode.window.showInformationMessage(message);
        return;
      }
      const report = computeStatus({ ...state.index, diagnostics: [...state.configDiagnostics, ...state.index.diagnostics] });
      const picked = await vscode.window.showQuickPick(statusPickItems(report, state.index), {
        title: 'Factory Status',
        placeHolder: 'Pick an AC to open it in the ledger',
        matchOnDescription: true,
      });
      if (picked?.source) {
        const line = Math.max(0, picked.source.line - 1);
        await vscode.window.showTextDocument(vscode.Uri.joinPath(state.root, picked.source.file), { selection: new vscode.Range(line, 0, line, 0) });
      } else if (picked?.command) {
        await vscode.commands.executeCommand(picked.command);
      }
    }),
  );
}
