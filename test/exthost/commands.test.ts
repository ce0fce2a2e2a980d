import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, factoryApi } from './support';

interface Manifest {
  contributes: { commands: { command: string }[] };
}

describe('commands (real extension host)', () => {
  it('every command in package.json is registered by the running extension', async () => {
    await factoryApi();
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as Manifest;
    const contributed = manifest.contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 4);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((c) => !registered.has(c)),
      [],
    );
  });

  it('Refresh re-reads the documents and ends in the ready state', async () => {
    const api = await factoryApi();
    let fired = 0;
    const sub = api.store.onDidChange(() => fired++);
    try {
      await vscode.commands.executeCommand('factory.ssot.refresh');
    } finally {
      sub.dispose();
    }
    assert.ok(fired >= 1, 'the store reported a refresh');
    assert.equal(api.store.state.kind, 'ready');
  });
});
