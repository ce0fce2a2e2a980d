import * as vscode from 'vscode';
import type { CompareCandidate, CycleDeps } from '../../core/cycle/cycle-types';
import type { ChangesetReviewer, ReviewSubject } from './changeset-review';
import { candidateRows, diffPairs } from './compare-rows';

type Item = vscode.QuickPickItem & { action: 'candidate' | 'side-by-side' | 'none'; index?: number };

const OPEN_DIFF: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('diff-multiple'), tooltip: 'Open this changeset (base ↔ this candidate)' };

function subjectOf(root: string, ticketId: string, c: CompareCandidate): ReviewSubject {
  return { root, runId: c.runId, ticketId: `${ticketId} · ${c.agent}${c.model ? ` ${c.model}` : ''}`, baseCommit: c.baseCommit, workspace: c.workspace, changes: c.changes };
}

/** Both candidates' trees side by side, one entry per file either changed (a's tree ↔ b's tree). */
async function openSideBySide(reviewer: ChangesetReviewer, root: string, ticketId: string, a: CompareCandidate, b: CompareCandidate): Promise<void> {
  const sa = subjectOf(root, ticketId, a);
  const sb = subjectOf(root, ticketId, b);
  const entries: [vscode.Uri, vscode.Uri, vscode.Uri][] = [];
  for (const p of diffPairs(a, b)) {
    const left = reviewer.sideUri(sa, p.path, 'after', p.a);
    const right = reviewer.sideUri(sb, p.path, 'after', p.b);
    if (left && right) entries.push([vscode.Uri.joinPath(vscode.Uri.file(root), p.path), left, right]);
  }
  await vscode.commands.executeCommand('vscode.changes', `Factory: ${ticketId} — ${a.agent} ↔ ${b.agent}`, entries);
}

/**
 * The compare run's `pickCandidate` hook (issue 20, `compare.pick: 'ask'`): a Quick Pick with one
 * row per candidate (agent/model, Gate, files, diff lines, tokens, cost, the cheapest passing one
 * marked), a button on each row opening its changeset, "Compare side by side" and "Apply none".
 * A candidate that did not pass cannot be chosen; dismissing the pick (or stopping the run) applies none.
 */
export function comparePicker(reviewer: ChangesetReviewer, root: string, ticketLabel: string, signal?: AbortSignal, log?: vscode.LogOutputChannel): NonNullable<CycleDeps['pickCandidate']> {
  return (candidates) =>
    new Promise<number | null>((resolve) => {
      const rows = candidateRows(candidates);
      const qp = vscode.window.createQuickPick<Item>();
      const title = `Factory: ${ticketLabel} — which changeset is applied?`;
      qp.title = title;
      qp.placeholder = 'Pick the candidate to apply (only one that passed every check); the buttons open each changeset';
      qp.ignoreFocusOut = true;
      qp.matchOnDescription = true;
      qp.matchOnDetail = true;
      const [a, b] = candidates;
      qp.items = [
        ...rows.map((r, index): Item => ({ label: r.label, description: r.description, detail: r.detail, buttons: [OPEN_DIFF], action: 'candidate', index })),
        { label: '', kind: vscode.QuickPickItemKind.Separator, action: 'none' },
        ...(a && b ? [{ label: '$(split-horizontal) Compare side by side', description: `${a.agent} ↔ ${b.agent}, every file either changed`, action: 'side-by-side' as const }] : []),
        { label: '$(circle-slash) Apply none', description: 'nothing is applied; both candidates keep their evidence', action: 'none' },
      ];
      let done = false;
      const finish = (v: number | null) => {
        if (done) return;
        done = true;
        log?.info(`compare: ${v === null ? 'none applied' : `picked ${candidates[v]?.agent} (${candidates[v]?.runId})`}`);
        resolve(v);
        qp.hide();
      };
      const onAbort = () => finish(null);
      signal?.addEventListener('abort', onAbort, { once: true });
      qp.onDidTriggerItemButton((e) => {
        const c = e.item.index === undefined ? undefined : candidates[e.item.index];
        if (c) void reviewer.open(subjectOf(root, ticketLabel, c));
      });
      qp.onDidAccept(() => {
        const item = qp.selectedItems[0];
        if (!item || item.action === 'none') return finish(null);
        if (item.action === 'side-by-side') return void (a && b && openSideBySide(reviewer, root, ticketLabel, a, b));
        const i = item.index ?? -1;
        if (rows[i]?.pickable) return finish(i);
        qp.title = `${candidates[i]?.agent ?? 'that candidate'} did not pass its checks and cannot be applied — pick another, or Apply none`;
      });
      qp.onDidHide(() => {
        signal?.removeEventListener('abort', onAbort);
        finish(null);
        qp.dispose();
      });
      qp.show();
    });
}
