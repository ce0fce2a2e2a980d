import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE } from '../../src/extension/diagnostics/ssot-diagnostics';
import { eventually, factoryApi, waitForState, workspaceRoot } from './support';

describe('diagnostics (real extension host)', () => {
  it('a broken ledger row written on disk shows up in the Problems panel at its line, and goes away when fixed', async () => {
    const api = await factoryApi();
    const state = await waitForState(api, (s) => s.kind === 'ready');
    assert.equal(state.kind, 'ready');
    const ledger = vscode.Uri.joinPath(workspaceRoot(), state.config.ssot.ledger);
    const original = fs.readFileSync(ledger.fsPath, 'utf8');
    const ours = (): vscode.Diagnostic[] => vscode.languages.getDiagnostics(ledger).filter((d) => d.source === DIAGNOSTIC_SOURCE);
    const before = ours().length;

    // A row in the ledger's table whose id is not TICKET::AC-N: the parser must report it.
    const text = original.endsWith('\n') ? original : `${original}\n`;
    const brokenLine = text.split('\n').length - 1; // 0-based index of the appended line
    fs.writeFileSync(ledger.fsPath, `${text}| NOT-AN-AC-ID | broken row written by the e2e test | E2E | OPEN | NONE | UNKNOWN | — | — |\n`);
    try {
      // No explicit refresh: the file watcher must notice the change.
      const found = await eventually(() => ours().find((d) => d.range.start.line === brokenLine), `a diagnostic on line ${brokenLine + 1}`);
      assert.match(found.message, /NOT-AN-AC-ID/);
      assert.equal(found.severity, vscode.DiagnosticSeverity.Warning);
    } finally {
      fs.writeFileSync(ledger.fsPath, original);
    }
    await eventually(() => (ours().length === before ? true : undefined), 'the diagnostic to clear');
  });

  it('a wrong value in .factory/config.json shows up at its key with the JSON path, and goes away when fixed', async () => {
    const api = await factoryApi();
    await waitForState(api, (s) => s.kind === 'ready');
    const config = vscode.Uri.joinPath(workspaceRoot(), '.factory', 'config.json');
    const original = fs.readFileSync(config.fsPath, 'utf8');
    const ours = (): vscode.Diagnostic[] => vscode.languages.getDiagnostics(config).filter((d) => d.source === DIAGNOSTIC_SOURCE);
    const parsed = JSON.parse(original) as { worker?: Record<string, unknown> };
    parsed.worker = { ...parsed.worker, memoryMb: 'lots' };
    const broken = JSON.stringify(parsed, null, 2);
    const keyLine = broken.split('\n').findIndex((l) => l.includes('"memoryMb"'));
    fs.writeFileSync(config.fsPath, broken);
    try {
      const found = await eventually(() => ours().find((d) => d.message.includes('worker.memoryMb')), 'a config diagnostic naming worker.memoryMb');
      assert.equal(found.range.start.line, keyLine, 'placed on the line of the key');
    } finally {
      fs.writeFileSync(config.fsPath, original);
    }
    await eventually(() => (ours().length === 0 ? true : undefined), 'the config diagnostic to clear');
  });
});
