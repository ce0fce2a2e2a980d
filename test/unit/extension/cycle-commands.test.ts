import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { buildImageTask } from '../../../src/extension/commands/build-image';
import { runSettings } from '../../../src/extension/cycle/run-settings';
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
    assert.deepEqual(runSettings('/repo', inspected({ 'review.requireApproval': { defaultValue: false }, replayDirectory: { defaultValue: '' }, agent: { defaultValue: '' } })), { requireApproval: false });
    const s = runSettings('/repo', inspected({ replayDirectory: { globalValue: 'recordings' }, agent: { workspaceValue: ' replay ' } }));
    assert.equal(s.replayDir, path.resolve('/repo', 'recordings'));
    assert.equal(s.agent, 'replay', 'the agent is the project\'s choice (its config picks it too)');
  });
});
