import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE } from '../../../src/core/config/config-file';
import type { FactoryRunOptions } from '../../../src/core/cycle/parallel/factory-types';
import type { BackendReport } from '../../../src/core/backend/run-checks';
import { backendSource, checkItems } from '../../../src/extension/commands/backend-items';
import { withEditorBackend } from '../../../src/extension/cycle/run-operation';
import { backendValue, runSettings, type Inspected } from '../../../src/extension/cycle/run-settings';

/** `runSettings`' reader over fixed inspect results. */
function settings(values: Record<string, Inspected<unknown>>) {
  return runSettings('/repo', <T>(key: string) => values[key] as Inspected<T> | undefined);
}

describe('factory.engine.backend: the editor chooses where its runs\' Workers run', () => {
  const made: string[] = [];
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  function repo(config?: unknown): string {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-backend-setting-'));
    made.push(d);
    if (config !== undefined) {
      fs.mkdirSync(path.join(d, path.dirname(CONFIG_FILE)), { recursive: true });
      fs.writeFileSync(path.join(d, CONFIG_FILE), typeof config === 'string' ? config : JSON.stringify(config));
    }
    return d;
  }
  const opts = (root: string): FactoryRunOptions => ({ root, parallel: 1, maxCycles: 1 });

  it('"config" (the default) and unknown values leave the config\'s choice; local/swarm override it; the folder beats the workspace beats the user', () => {
    assert.equal(settings({ 'engine.backend': { defaultValue: 'config' } }).backend, undefined);
    assert.equal(settings({}).backend, undefined);
    assert.equal(settings({ 'engine.backend': { defaultValue: 'config', globalValue: 'swarm' } }).backend, 'swarm');
    assert.equal(settings({ 'engine.backend': { defaultValue: 'config', globalValue: 'swarm', workspaceValue: 'local' } }).backend, 'local');
    assert.equal(settings({ 'engine.backend': { defaultValue: 'config', workspaceValue: 'local', workspaceFolderValue: 'swarm' } }).backend, 'swarm');
    assert.equal(settings({ 'engine.backend': { defaultValue: 'config', workspaceValue: 'kubernetes' } }).backend, undefined);
    assert.deepEqual([backendValue('local'), backendValue('swarm'), backendValue('config'), backendValue(3)], ['local', 'swarm', undefined, undefined]);
  });

  it('the override reaches the run as its config: the repository\'s config, read strictly, with engine.backend replaced', async () => {
    const root = repo({ engine: { backend: 'local', swarm: { constraints: ['node.labels.factory==worker'] } }, killSwitch: { budgetUsd: 0.5 } });
    const o = await withEditorBackend(opts(root), { backend: 'swarm' });
    assert.equal(o.config?.engine.backend, 'swarm');
    assert.deepEqual(o.config?.engine.swarm.constraints, ['node.labels.factory==worker'], 'the rest of engine is the config\'s');
    assert.equal(o.config?.killSwitch.budgetUsd, 0.5, 'and so is everything else');
    const same = opts(root);
    assert.equal(await withEditorBackend(same, {}), same, 'no setting: the run reads the config itself');
    const none = await withEditorBackend(opts(repo()), { backend: 'local' });
    assert.equal(none.config?.engine.backend, 'local', 'no config file: the defaults with the chosen backend');
  });

  it('an invalid config is refused as the run would refuse it (config.invalid), not papered over by the override', async () => {
    await assert.rejects(withEditorBackend(opts(repo({ engine: { backend: 'moon' } })), { backend: 'swarm' }), (e: Error & { code?: string }) => e.code === 'config.invalid');
  });

  it('Check Execution Backend rows: a header with the verdict and where the choice came from, ✓/✗ per check, the fix under a failed one', () => {
    const bad: BackendReport = {
      backend: 'swarm', engine: 'unix:///var/run/docker.sock', ok: false,
      checks: [
        { id: 'swarm.manager', ok: true, detail: 'node abc is a manager' },
        { id: 'swarm.image', ok: false, detail: 'no ready node has agentic-factory/worker:latest', fix: 'docker save … | docker load on the nodes' },
      ],
    };
    const rows = checkItems(bad, backendSource('swarm'));
    assert.deepEqual(rows[0], { label: '$(error) swarm backend: 1 check failed', description: 'factory.engine.backend = swarm · engine unix:///var/run/docker.sock' });
    assert.deepEqual(rows[1], { label: '$(check) swarm.manager', description: 'node abc is a manager' });
    assert.deepEqual(rows[2], { label: '$(close) swarm.image', description: 'no ready node has agentic-factory/worker:latest', detail: 'Fix: docker save … | docker load on the nodes' });
    const good = checkItems({ backend: 'local', ok: true, checks: [{ id: 'local.engine', ok: true, detail: 'Docker engine 25.0' }] }, backendSource(undefined));
    assert.equal(good[0]?.label, '$(pass-filled) local backend: ready');
    assert.equal(good[0]?.description, 'engine.backend in .factory/config.json');
    assert.ok(good.every((r) => r.detail === undefined));
  });

  it('package.json contributes the setting (config | local | swarm, default config) and the command', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { enum?: string[]; default?: unknown }> }; commands: { command: string; title: string }[] };
    };
    const prop = pkg.contributes.configuration.properties['factory.engine.backend'];
    assert.deepEqual(prop?.enum, ['config', 'local', 'swarm']);
    assert.equal(prop?.default, 'config');
    assert.equal(pkg.contributes.commands.find((c) => c.command === 'factory.backend.check')?.title, 'Check Execution Backend');
  });
});
