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

  // The Controller's contracts: a hand-edited plan.json, a Worker's result.json, an audit report.
  for (const [rel, body, what] of [
    ['logs/autopilot/plan.json', '{\n  "ticket_id": 42,\n  "noSuchKey": 1\n}\n', 'plan.json'],
    ['json-validation-probe/out/result.json', '{\n  "status": "MAYBE",\n  "noSuchKey": 1\n}\n', 'result.json'],
    ['logs/autopilot/audits/probe_manual.json', '{\n  "verdict": "PERHAPS",\n  "noSuchKey": 1\n}\n', 'audit_report.json'],
  ] as const) {
    it(`${what} is validated against its contributed schema (wrong value and unknown key flagged at their lines)`, async function () {
      this.timeout(60_000);
      await factoryApi();
      const file = path.join(workspaceRoot().fsPath, ...rel.split('/'));
      const existed = fs.existsSync(path.dirname(file));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body);
      try {
        const doc = await vscode.workspace.openTextDocument(file);
        await vscode.window.showTextDocument(doc);
        const problems = await eventually(() => {
          const d = vscode.languages.getDiagnostics(doc.uri);
          return d.some((x) => x.range.start.line === 1) && d.some((x) => x.range.start.line === 2) ? d : undefined;
        }, `${what} schema diagnostics`, 45_000);
        assert.ok(problems.length >= 2);
      } finally {
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
        fs.rmSync(file, { force: true });
        // Only the probe folder goes; a watched folder (logs/autopilot) is never deleted under the views.
        if (!existed && rel.startsWith('json-validation-probe/')) fs.rmSync(path.join(workspaceRoot().fsPath, 'json-validation-probe'), { recursive: true, force: true });
      }
    });
  }
});
