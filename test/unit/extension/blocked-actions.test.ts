import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig } from '../../../src/core/config/schema';
import { agentItems, BLOCKED_ACTIONS, blockedMessage, blockReason, evidenceFile, isBlocked, modelItems, retryOptions } from '../../../src/extension/cycle/blocked-actions';
import { AUTOMATIC } from '../../../src/extension/cycle/run-settings';

/** The BLOCKED hand-off's words and choices (issue 20), without vscode. */
describe('BLOCKED hand-off: notification, picks, retry options', () => {
  const outcome = { ticketId: 'D301', status: 'BLOCKED' as const, blocked: true, reasons: ['gate: fast FAIL', 'ticket D301 set BLOCKED: retry cap: 3 failed attempts (cap 3)'] };

  it('names the ticket and the kill switch\'s reason, with the last failure, and offers the three actions', () => {
    assert.equal(blockReason(outcome), 'retry cap: 3 failed attempts (cap 3)');
    assert.equal(blockReason({ ticketId: 'D1', reasons: ['budget cap ($1.00)'] }), 'budget cap ($1.00)');
    const msg = blockedMessage(outcome, 'gate fast FAIL');
    assert.match(msg, /^Factory: D301 is BLOCKED — retry cap: 3 failed attempts \(cap 3\) \(last: gate fast FAIL\)\. Retry it on another agent or model/);
    assert.deepEqual([...BLOCKED_ACTIONS], ['Retry with another agent/model', 'Open evidence', 'Edit ticket']);
    assert.ok(isBlocked(outcome));
    assert.ok(isBlocked({ blocked: false, status: 'BLOCKED' }));
    assert.ok(!isBlocked({ blocked: false, status: 'FAIL' }));
  });

  it('agent and model picks: Automatic first, the blocked attempts\' own marked', () => {
    const agents = agentItems('replay');
    assert.equal(agents[0].label, AUTOMATIC);
    assert.equal(agents[0].value, '');
    assert.match(agents.find((a) => a.value === 'replay')?.description ?? '', /blocked attempts ran this one/);
    const models = modelItems(defaultConfig(), 'claude-code', 'claude-sonnet-4-5');
    assert.equal(models[0].value, '');
    assert.ok(models.slice(1).every((m) => m.value.startsWith('claude-')), models.map((m) => m.value).join(' '));
  });

  it('the retry\'s run options: the Worker override named as the hand-off\'s, and the feedback; nothing without a retry', () => {
    assert.deepEqual(retryOptions({}), {});
    const feedback = { schema_version: 1 as const, ticket_id: 'D301', comment: 'why', line_comments: [], created_at: '2026-12-01T00:00:00Z' };
    const o = retryOptions({ retry: { agent: 'codex', model: 'gpt-5', feedback } });
    assert.equal(o.agent, 'codex');
    assert.equal(o.model, 'gpt-5');
    assert.match(o.overrideSource ?? '', /BLOCKED hand-off's "Retry with another agent\/model" \(agent codex, model gpt-5\)/);
    assert.equal(o.feedback, feedback);
    assert.deepEqual(retryOptions({ retry: { feedback } }), { feedback });
  });

  it('Open evidence: the README inside the evidence folder only, never a symlink or a path outside', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-blocked-'));
    try {
      const run = path.join(root, 'logs', 'evidence', 'r1');
      fs.mkdirSync(run, { recursive: true });
      fs.writeFileSync(path.join(run, 'error.log'), 'x');
      assert.equal(evidenceFile(root, 'logs/evidence', 'logs/evidence/r1'), path.join(run, 'error.log'));
      fs.writeFileSync(path.join(run, 'README.md'), 'x');
      assert.equal(evidenceFile(root, 'logs/evidence', 'logs/evidence/r1'), path.join(run, 'README.md'));
      assert.equal(evidenceFile(root, 'logs/evidence', '../etc'), undefined);
      assert.equal(evidenceFile(root, 'logs/evidence', 'logs/evidence/../../x'), undefined);
      assert.equal(evidenceFile(root, 'logs/evidence', null), undefined);
      const link = path.join(root, 'logs', 'evidence', 'r2');
      fs.mkdirSync(link);
      fs.symlinkSync('/etc/hostname', path.join(link, 'README.md'));
      assert.equal(evidenceFile(root, 'logs/evidence', 'logs/evidence/r2'), undefined);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
