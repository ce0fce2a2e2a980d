import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { indexWorkspace } from '../../src/core/ssot/workspace';
import { DIAGNOSTIC_SOURCE } from '../../src/extension/diagnostics/ssot-diagnostics';
import { factoryApi, waitForState, workspaceRoot } from './support';

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=exthost test', '-c', 'user.email=exthost@test.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'pipe' });
}

describe('workspace trust (real extension host)', () => {
  it('SEC-23 in an untrusted workspace the SSOT index runs no git: a deleted AC that git would reveal is not reported', async function () {
    // code-server opens the example in Restricted Mode (the e2e driver does not trust it);
    // test-electron runs with trust disabled, where this case does not exist.
    if (vscode.workspace.isTrusted) this.skip();
    const api = await factoryApi();
    const state = await waitForState(api, (s) => s.kind === 'ready');
    assert.equal(state.kind, 'ready');
    const root = workspaceRoot().fsPath;
    const ledgerRel = state.config.ssot.ledger;
    const ledgerPath = path.join(root, ledgerRel);
    const original = fs.readFileSync(ledgerPath, 'utf8');
    // A repository whose HEAD ledger has one AC more than the working copy: an AC was deleted.
    const withExtra = `${original.endsWith('\n') ? original : `${original}\n`}| D999::AC-1 | deleted later | E2E | OPEN | NONE | UNKNOWN | — | — |\n`;
    try {
      fs.writeFileSync(ledgerPath, withExtra);
      git(root, 'init', '-q');
      git(root, 'add', ledgerRel);
      git(root, 'commit', '-q', '-m', 'ledger with D999::AC-1');
      fs.writeFileSync(ledgerPath, original);

      // Control: the same folder indexed WITH git reports the deletion.
      const withGit = await indexWorkspace(root, state.config, { git: true });
      assert.ok(
        withGit.diagnostics.some((d) => d.code === 'ssot.deleted-ac' && d.message.includes('D999::AC-1')),
        'the setup is detectable when git runs',
      );

      const after = await api.store.refresh();
      assert.equal(after.kind, 'ready');
      if (after.kind !== 'ready') return;
      assert.ok(!after.index.diagnostics.some((d) => d.code === 'ssot.deleted-ac'), 'the extension did not run git');
      const problems = vscode.languages.getDiagnostics(vscode.Uri.file(ledgerPath)).filter((d) => d.source === DIAGNOSTIC_SOURCE);
      assert.ok(!problems.some((d) => d.code === 'ssot.deleted-ac'));
    } finally {
      fs.writeFileSync(ledgerPath, original);
      fs.rmSync(path.join(root, '.git'), { recursive: true, force: true });
      await api.store.refresh();
    }
  });
});

describe('Restricted Mode refuses every command that runs project code (real extension host)', () => {
  for (const [command, what] of [
    ['factory.cycle.run', 'Run'],
    ['factory.gate.run', 'Run Gate'],
    ['factory.docops.run', 'Run DocOps'],
    ['factory.plan.build', 'Build plan.json'],
    // git runs in the folder to plan (a hostile .git/config is code too).
    ['factory.cycle.dryRun', 'Dry Run'],
    ['factory.image.build', 'Build Worker Image'],
  ] as const) {
    it(`SEC-23 ${command} is refused with an explanation and starts nothing`, async function () {
      if (vscode.workspace.isTrusted) this.skip();
      const api = await factoryApi();
      await waitForState(api, (s) => s.kind === 'ready');
      const root = workspaceRoot().fsPath;
      const autopilot = path.join(root, 'logs', 'autopilot');
      const existed = fs.existsSync(autopilot) ? fs.readdirSync(autopilot).sort() : null;
      const result = await vscode.commands.executeCommand<{ refused?: string; message?: string } | undefined>(command);
      assert.equal(result?.refused, 'untrusted');
      assert.match(result?.message ?? '', new RegExp(`^Factory: ${what.replace(/[.()]/g, '\\$&')} is not available in Restricted Mode\\. It runs this folder's code`));
      assert.equal(api.runner.busy, undefined, 'no operation started');
      // The Roadmap says why, before anyone tries.
      assert.match(api.roadmap.message ?? '', /^Restricted Mode: the documents are only read\. Run, Dry Run, Gate and DocOps stay off until you trust this folder\.$/);
      assert.deepEqual(fs.existsSync(autopilot) ? fs.readdirSync(autopilot).sort() : null, existed, 'nothing written');
    });
  }

});
