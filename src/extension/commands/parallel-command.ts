/**
 * "Factory: Set Parallel Cycles" (issue 18): a Quick Pick of 1 / 2 / 4 / 8 / custom (1–16) that
 * writes `factory.parallel` for the workspace; "Factory: Run" then keeps that many cycles in
 * flight. The workspace setting lives in `.vscode/settings.json`: when git sees that file as a
 * change, a cycle would refuse the dirty tree (spec §8-3), so the user is told and offered the
 * user settings instead.
 */
import * as vscode from 'vscode';
import { runGit } from '../../core/git/git';
import { PARALLEL_MAX, validateParallel } from '../cycle/run-settings';
import { readRunSettings, type FactoryRunner } from '../cycle/factory-runner';

/** The picker's entries: the common sizes, then "Custom…". */
export const PARALLEL_CHOICES = [1, 2, 4, 8] as const;

async function askParallel(current: number): Promise<number | undefined> {
  const custom = { label: '$(edit) Custom…', description: `1–${PARALLEL_MAX}`, value: 0 };
  const pick = await vscode.window.showQuickPick(
    [
      ...PARALLEL_CHOICES.map((n) => ({ label: `${n === current ? '$(check) ' : ''}${n}`, description: n === 1 ? 'one cycle at a time (as always)' : `up to ${n} cycles in flight on disjoint scopes`, value: n })),
      custom,
    ],
    { title: 'Factory: Set Parallel Cycles', placeHolder: `Cycles "Factory: Run" keeps in flight (now ${current}); each has its own budget` },
  );
  if (!pick) return undefined;
  if (pick.value) return pick.value;
  const typed = await vscode.window.showInputBox({ title: 'Factory: Set Parallel Cycles', prompt: `Cycles in flight at once (1–${PARALLEL_MAX})`, value: String(current), validateInput: validateParallel });
  return typed === undefined ? undefined : Number(typed.trim());
}

export async function setParallelCommand(runner: FactoryRunner, value?: unknown) {
  const ws = await runner.ready('Set Parallel Cycles', false);
  if ('refused' in ws) return ws;
  const current = readRunSettings(ws.root).parallel;
  const n = typeof value === 'number' && validateParallel(String(value)) === undefined ? value : await askParallel(current);
  if (n === undefined) return { changed: false, parallel: current };
  const c = vscode.workspace.getConfiguration('factory', vscode.Uri.file(ws.root));
  await c.update('parallel', n, vscode.ConfigurationTarget.Workspace);
  const status = await runGit(ws.root, ['status', '--porcelain', '--', '.vscode/settings.json']).catch(() => undefined);
  const dirty = !!status && status.code === 0 && status.stdout.toString().trim() !== '';
  const msg = `Factory: Run keeps up to ${n} cycle${n === 1 ? '' : 's'} in flight${dirty ? ' — .vscode/settings.json is now an uncommitted change, and a cycle starts only from a clean tree: commit it, ignore it, or keep the setting in your user settings' : ''}.`;
  const actions = dirty ? ['Use User Settings', 'Run'] : ['Run'];
  void vscode.window.showInformationMessage(msg, ...actions).then(async (choice) => {
    if (choice === 'Run') await vscode.commands.executeCommand('factory.cycle.run');
    else if (choice === 'Use User Settings') {
      await c.update('parallel', n, vscode.ConfigurationTarget.Global);
      await c.update('parallel', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
  return { changed: true, parallel: n };
}
