import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { buildImageTask } from '../../../src/extension/commands/build-image';
import * as fs from 'node:fs';
import { AGENT_NAMES } from '../../../src/core/config/agent-names';
import { defaultConfig } from '../../../src/core/config/schema';
import { agentsInUse, mayRunReplay, modelChoices, overrideSource, runSettings } from '../../../src/extension/cycle/run-settings';
import { sourceFromArg, ticketFromArg, validTicketId } from '../../../src/extension/cycle/ticket-arg';
import { buildRoadmapRows } from '../../../src/extension/views/roadmap/roadmap-model';
import { buildQueueRows } from '../../../src/extension/views/ac-queue/ac-queue-model';
import { loadConfig } from '../../../src/core/config/load';
import { indexWorkspace } from '../../../src/core/ssot/workspace';

const EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'demo-project');

describe('extension: the cycle commands\' arguments', () => {
  it('a Roadmap ticket row, its AC rows and the AC Queue rows all name the ticket the Run acts on', async () => {
    const { config } = await loadConfig(EXAMPLE);
    const index = await indexWorkspace(EXAMPLE, config, { git: false });
    const phases = buildRoadmapRows(index);
    const tickets = phases.flatMap((p) => p.children);
    assert.ok(tickets.length > 0);
    for (const t of tickets) {
      assert.equal(ticketFromArg(t), t.ticket.id);
      for (const ac of t.children) assert.equal(ticketFromArg(ac), ac.ac.ticketId);
    }
    for (const q of buildQueueRows(index)) assert.equal(ticketFromArg(q), q.ac.ticketId);
    // A phase row names no ticket: the command asks instead of guessing.
    assert.equal(ticketFromArg(phases[0]), undefined);
  });

  it('plain ids are checked: shell metacharacters, paths and empty strings are refused', () => {
    assert.equal(ticketFromArg('D201'), 'D201');
    assert.equal(ticketFromArg(' D_ALPHA-1U-FIX-2 '), 'D_ALPHA-1U-FIX-2');
    for (const bad of ['', '   ', '../D201', 'D201;rm -rf /', '-rf', 'a/b', 'x'.repeat(200), 'D2..01']) assert.equal(validTicketId(bad), undefined, bad);
    assert.equal(ticketFromArg({ kind: 'ticket', ticket: { id: '$(whoami)' } }), undefined);
    assert.equal(ticketFromArg(42), undefined);
    assert.equal(ticketFromArg(null), undefined);
  });

  it('"Open in Roadmap" takes the row\'s source line, never a malformed one', () => {
    assert.deepEqual(sourceFromArg({ kind: 'ticket', source: { file: 'D_ROADMAP.md', line: 12 } }), { file: 'D_ROADMAP.md', line: 12 });
    assert.deepEqual(sourceFromArg({ ac: { source: { file: 'docs/v2/design/AC_LEDGER.md', line: 3 } } }), { file: 'docs/v2/design/AC_LEDGER.md', line: 3 });
    assert.equal(sourceFromArg({ source: { file: 'x.md', line: 0 } }), undefined);
    assert.equal(sourceFromArg({ source: { file: '', line: 3 } }), undefined);
    assert.equal(sourceFromArg('D201'), undefined);
  });
});

describe('extension: Build Worker Image', () => {
  it('builds the shipped Dockerfile tagged as worker.image, with the configured agents\' CLIs', () => {
    const t = buildImageTask('/ext', 'acme/worker:1', '/repo', ['claude-code', 'codex', 'claude-code', 'replay']);
    assert.equal(t.command, 'docker');
    assert.deepEqual(t.args, ['build', '--pull', '-t', 'acme/worker:1', '-f', path.join('/ext', 'docker', 'worker.Dockerfile'), '--build-arg', 'AGENT_CLIS=@anthropic-ai/claude-code @openai/codex', path.join('/ext', 'docker')]);
    assert.equal(t.cwd, '/repo');
    const aider = buildImageTask('/ext', 'w', '/repo', ['aider']);
    assert.ok(aider.args.includes('AIDER=1') && !aider.args.some((a) => a.startsWith('AGENT_CLIS')));
  });
});

describe('extension: run settings (SEC-23: a repository cannot weaken them)', () => {
  const inspected = (values: Record<string, Record<string, unknown>>) => <T>(key: string) => values[key] as { defaultValue?: T; globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined;

  it('the review and the replay folder come from the user\'s settings; workspace values are ignored', () => {
    const s = runSettings('/repo', inspected({
      'review.requireApproval': { defaultValue: false, globalValue: true, workspaceValue: false, workspaceFolderValue: false },
      replayDirectory: { defaultValue: '', workspaceValue: '/home/user/.ssh' },
      agent: { defaultValue: '' },
    }));
    assert.equal(s.requireApproval, true);
    assert.equal(s.replayDir, undefined);
  });

  it('defaults: no review, no replay folder, the config\'s agent; a user replay folder resolves against the root', () => {
    assert.deepEqual(runSettings('/repo', inspected({ 'review.requireApproval': { defaultValue: false }, replayDirectory: { defaultValue: '' }, agent: { defaultValue: '' } })), { requireApproval: false, parallel: 1 });
    const s = runSettings('/repo', inspected({ replayDirectory: { globalValue: 'recordings' }, agent: { workspaceValue: ' replay ' } }));
    assert.equal(s.replayDir, path.resolve('/repo', 'recordings'));
    assert.equal(s.agent, 'replay', 'the agent is the project\'s choice (its config picks it too)');
  });
});

describe('extension: the Worker agent and model pickers (issue 16)', () => {
  const inspected = (values: Record<string, Record<string, unknown>>) => <T>(key: string) => values[key] as { defaultValue?: T; globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined;
  const routed = () => {
    const c = defaultConfig();
    c.routing.levels.CRIT = { worker: { agent: 'gemini', model: 'gemini-2.5-pro' }, auditor: { agent: 'codex', model: 'gpt-5' } };
    c.routing.tickets = [{ ticket: 'DEMO-*', worker: { agent: 'replay', model: 'gpt-5-mini' } }];
    return c;
  };

  it('"Automatic" (empty) is no override; a chosen model is passed on like the agent', () => {
    assert.deepEqual(runSettings('/repo', inspected({ agent: { defaultValue: '' }, model: { defaultValue: '' } })), { requireApproval: false, parallel: 1 });
    const s = runSettings('/repo', inspected({ agent: { defaultValue: '', globalValue: 'codex' }, model: { defaultValue: '', workspaceFolderValue: ' gpt-5 ' } }));
    assert.deepEqual([s.agent, s.model], ['codex', 'gpt-5']);
    // plan.json names where the override came from.
    assert.equal(overrideSource(s), "the editor's Worker picker (factory.agent = codex, factory.model = gpt-5)");
    assert.equal(overrideSource({ model: 'gpt-5' }), "the editor's Worker picker (factory.model = gpt-5)");
    assert.equal(overrideSource({}), undefined, 'Automatic: no override');
  });

  it('with no override the agents in use are every one the routing table can pick, for the image and the replay check', () => {
    const config = routed();
    assert.equal(config.worker.agent, undefined, 'worker.agent is unset by default: the routing table decides');
    const auto = agentsInUse({}, config);
    assert.deepEqual(auto.worker.sort(), ['claude-code', 'codex', 'gemini', 'replay']);
    assert.deepEqual(auto.auditor.sort(), ['claude-code', 'codex']);
    assert.equal(mayRunReplay({}, config), true, 'a ticket rule routes DEMO-* to replay');
    // An override narrows the Worker to that agent; the Auditor stays routed.
    assert.deepEqual(agentsInUse({ agent: 'codex' }, config), { worker: ['codex'], auditor: auto.auditor });
    assert.equal(mayRunReplay({ agent: 'codex' }, config), false);
    config.worker.agent = 'aider';
    assert.deepEqual(agentsInUse({}, config).worker, ['aider']);
    const plain = defaultConfig();
    assert.equal(mayRunReplay({}, plain), false);
    assert.equal(mayRunReplay({ agent: 'replay' }, plain), true);
    plain.auditor.agent = 'replay';
    assert.equal(mayRunReplay({}, plain), true, 'a replay Auditor needs the recordings too');
  });

  it('the model picker offers the routing table\'s tier models first, then priced models the agent speaks, each once with its tier', () => {
    const config = defaultConfig();
    config.prices = { 'my-local': { inputPerMTok: 0, outputPerMTok: 0, tier: 'economy' } };
    const any = modelChoices(config);
    assert.deepEqual(any.slice(0, 3), [
      { model: 'gpt-5-mini', tier: 'economy', source: 'routing.tiers.economy' },
      { model: 'claude-sonnet-4-5', tier: 'standard', source: 'routing.tiers.standard' },
      { model: 'claude-opus-4-5', tier: 'premium', source: 'routing.tiers.premium' },
    ]);
    assert.deepEqual(any[3], { model: 'my-local', tier: 'economy', source: 'prices' });
    assert.equal(new Set(any.map((m) => m.model)).size, any.length);
    const codex = modelChoices(config, 'codex').map((m) => m.model);
    assert.equal(codex[0], 'gpt-5-mini');
    assert.ok(codex.includes('gpt-5') && codex.includes('o3'));
    assert.ok(!codex.some((m) => m.startsWith('claude-') || m.startsWith('gemini-') || m === 'my-local'), codex.join(', '));
    assert.ok(modelChoices(config, 'gemini').every((m) => m.model.startsWith('gemini-')));
    assert.ok(modelChoices(config, 'custom').some((m) => m.model === 'my-local'), 'an agent of any provider sees every model');
  });

  it('package.json: the agent setting lists "Automatic (routing table)" and every agent adapter, the model setting exists', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { enum?: string[]; enumItemLabels?: string[]; type: string; default: unknown }> } } };
    const props = pkg.contributes.configuration.properties;
    assert.deepEqual(props['factory.agent'].enum, ['', ...AGENT_NAMES]);
    assert.equal(props['factory.agent'].enumItemLabels?.[0], 'Automatic (routing table)');
    assert.equal(props['factory.agent'].default, '');
    assert.deepEqual([props['factory.model'].type, props['factory.model'].default], ['string', '']);
  });
});

