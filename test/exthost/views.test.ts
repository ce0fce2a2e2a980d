import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { loadConfig } from '../../src/core/config/load';
import type { SsotIndex } from '../../src/core/ssot/model';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { factoryApi, waitForState, workspaceRoot } from './support';

/** The example's documents read independently with the core parser: the expected values. */
async function expectedIndex(): Promise<SsotIndex> {
  const root = workspaceRoot().fsPath;
  const { config } = await loadConfig(root);
  return indexWorkspace(root, config, { git: false });
}

describe('views (real extension host)', () => {
  it('the Roadmap view shows every phase and ticket of the example, with DONE/TOTAL', async () => {
    const api = await factoryApi();
    await waitForState(api, (s) => s.kind === 'ready');
    const expected = await expectedIndex();
    assert.ok(expected.tickets.length > 0, 'the example has tickets');

    const phases = api.roadmap.getChildren();
    assert.deepEqual(
      phases.map((p) => p.label),
      expected.phases.map((p) => p.title),
    );
    const shownTickets = phases.flatMap((p) => api.roadmap.getChildren(p));
    assert.deepEqual(
      shownTickets.map((t) => t.label).sort(),
      expected.tickets.map((t) => t.id).sort(),
    );
    for (const row of shownTickets) {
      const ticket = expected.tickets.find((t) => t.id === row.label);
      assert.ok(ticket);
      const item = api.roadmap.getTreeItem(row);
      const description = String(item.description);
      if (ticket.done !== undefined && ticket.total !== undefined) {
        assert.ok(description.startsWith(`${ticket.done}/${ticket.total}`), `${ticket.id}: "${description}" starts with DONE/TOTAL`);
      } else {
        assert.match(description, /^\d+\/\d+/);
      }
      if (ticket.status === 'BLOCKED') assert.match(description, /BLOCKED/);
      assert.ok(item.iconPath instanceof vscode.ThemeIcon, 'status icon is a ThemeIcon');
      assert.equal(item.collapsibleState, api.roadmap.getChildren(row).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    }
  });

  it("a ticket's children are its ACs from the ledger", async () => {
    const api = await factoryApi();
    const expected = await expectedIndex();
    const withAcs = expected.tickets.find((t) => expected.ledger.some((ac) => ac.ticketId === t.id));
    assert.ok(withAcs, 'some ticket has ledger ACs');
    const row = api.roadmap
      .getChildren()
      .flatMap((p) => api.roadmap.getChildren(p))
      .find((r) => r.label === withAcs.id);
    assert.ok(row);
    const acLabels = api.roadmap.getChildren(row).map((r) => r.label);
    const ledgerLocal = expected.ledger.filter((ac) => ac.ticketId === withAcs.id).map((ac) => ac.localId);
    assert.deepEqual(acLabels.slice(0, ledgerLocal.length), ledgerLocal);
  });

  it('the AC Queue view lists the OPEN ACs in ledger order, the first marked next', async () => {
    const api = await factoryApi();
    await waitForState(api, (s) => s.kind === 'ready');
    const expected = await expectedIndex();
    const open = expected.ledger.filter((ac) => ac.status === 'OPEN').map((ac) => ac.id);
    assert.ok(open.length > 1, 'the example has several OPEN ACs');
    const rows = api.acQueue.getChildren();
    assert.deepEqual(
      rows.map((r) => r.label),
      open,
    );
    const items = rows.map((r) => api.acQueue.getTreeItem(r));
    assert.match(String(items[0]?.description), /^next\b/);
    assert.equal((items[0]?.iconPath as vscode.ThemeIcon).id, 'debug-stackframe');
    for (const item of items.slice(1)) {
      assert.doesNotMatch(String(item.description), /^next\b/);
      assert.notEqual((item.iconPath as vscode.ThemeIcon).id, 'debug-stackframe');
    }
  });

  it('clicking a row opens the document at the row it came from', async () => {
    const api = await factoryApi();
    const row = api.acQueue.getChildren()[0];
    assert.ok(row);
    const command = api.acQueue.getTreeItem(row).command;
    assert.ok(command);
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor, 'an editor opened');
    assert.equal(editor.document.uri.fsPath, vscode.Uri.joinPath(workspaceRoot(), row.ac.source.file).fsPath);
    assert.equal(editor.selection.active.line, row.ac.source.line - 1);
    assert.ok(editor.document.lineAt(row.ac.source.line - 1).text.includes(row.ac.id));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
