import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { eventually, factoryApi, workspaceRoot } from './support';

describe('jsonValidation (real extension host)', () => {
  it('a .factory/config.json without $schema is validated against the contributed schema', async function () {
    this.timeout(60_000);
    await factoryApi();
    // A config with no "$schema" of its own: only our jsonValidation contribution can flag it.
    const dir = path.join(workspaceRoot().fsPath, 'json-validation-probe', '.factory');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '{\n  "worker": { "memoryMb": "lots" },\n  "noSuchKey": 1\n}\n');
    try {
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      const problems = await eventually(() => {
        const d = vscode.languages.getDiagnostics(doc.uri);
        return d.length >= 2 ? d : undefined;
      }, 'JSON schema diagnostics', 45_000);
      const lines = problems.map((d) => d.range.start.line).sort();
      assert.ok(lines.includes(1), `memoryMb (line 2) flagged: ${problems.map((d) => d.message).join(' | ')}`);
      assert.ok(lines.includes(2), `noSuchKey (line 3) flagged: ${problems.map((d) => d.message).join(' | ')}`);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
