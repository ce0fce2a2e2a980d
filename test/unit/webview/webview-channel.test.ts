import * as assert from 'node:assert/strict';
import { WebviewChannel, redactDeep, type WebviewPort } from '../../../src/extension/panels/webview-channel';
import type { Logger } from '../../../src/core/util/log';
import { REDACTED } from '../../../src/core/gateway/redact';
import { parseHostMessage, parseWebviewMessage, type WebviewMessage } from '../../../src/shared/protocol';

/** A webview port that delivers what a test "sends from the webview" and records what the host posts. */
function fakePort(): WebviewPort & { deliver(m: unknown): void; posted: unknown[] } {
  let listener: ((m: unknown) => void) | undefined;
  const posted: unknown[] = [];
  return {
    posted,
    deliver: (m) => listener?.(m),
    onDidReceiveMessage: ((cb: (m: unknown) => void) => {
      listener = cb;
      return { dispose: () => (listener = undefined) };
    }) as WebviewPort['onDidReceiveMessage'],
    postMessage: async (m: unknown) => {
      posted.push(m);
      return true;
    },
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (m: string | Error) => void lines.push(`${level} ${String(m)}`);
  return { lines, trace: rec('trace'), debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

const KEY = 'sk-ant-api03-THIS-IS-A-TEST-KEY-0123456789';

describe('webview message channel', () => {
  it('SEC-22 invalid messages from the webview are dropped and logged, and never reach the handler', () => {
    const port = fakePort();
    const log = recordingLogger();
    const handled: WebviewMessage[] = [];
    const ch = new WebviewChannel(port, log, () => [], (m) => void handled.push(m));
    const hostile: unknown[] = [
      null,
      'ready',
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'openEvidence', runId: '../../..', file: 'etc/passwd' },
      { type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: '../../../.ssh/id_rsa' },
      { type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: '/etc/passwd' },
      { type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: 'a\\..\\..\\b' },
      { type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: 'gate.log\0.sh' },
      { type: 'openEvidence', runId: '20261125_110000_d1_abcdef0; rm -rf ~', file: 'gate.log' },
      { type: 'error', message: 'x'.repeat(10_000) },
      { type: 'ready', __proto__: { polluted: true } },
    ];
    for (const m of hostile) port.deliver(m);
    // Only the last one is valid (extra keys are stripped by zod; the prototype is not copied).
    assert.equal(ch.dropped, hostile.length - 1);
    assert.deepEqual(handled, [{ type: 'ready' }]);
    assert.equal(log.lines.filter((l) => l.startsWith('warn webview message dropped')).length, hostile.length - 1);
    // The log names issue codes, not the hostile content.
    assert.ok(!log.lines.some((l) => l.includes('id_rsa') || l.includes('rm -rf') || l.includes('xxxxxxxxxx')));
    ch.dispose();
    port.deliver({ type: 'ready' });
    assert.equal(handled.length, 1, 'no delivery after dispose');
  });

  it('SEC-22 a valid openEvidence message carries only a run id and a relative path inside the run', () => {
    const ok = parseWebviewMessage({ type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: 'gate.log' });
    assert.ok(ok.ok);
    assert.ok(parseWebviewMessage({ type: 'openEvidence', runId: '20261125_110000_d1_abcdef0', file: 'sub/kpi.json' }).ok);
    for (const file of ['..', './x', 'a//b', 'a/./b', '']) assert.ok(!parseWebviewMessage({ type: 'openEvidence', runId: 'r1', file }).ok, file);
  });

  it('SEC-25 every string the host posts is redacted, keys included, across nested objects', async () => {
    const port = fakePort();
    const ch = new WebviewChannel(port, recordingLogger(), () => [KEY, undefined, 'short'], () => undefined);
    await ch.post({ type: 'log.append', stream: 'worker', text: `curl -H "x-api-key: ${KEY}" …\nAuthorization: Bearer ${KEY}` });
    await ch.post({ type: 'log.reset', stream: 'gate', title: `Gate log ${KEY}` });
    const posted = JSON.stringify(port.posted);
    assert.ok(!posted.includes(KEY));
    assert.equal(posted.split(REDACTED).length - 1, 3);
    // A "secret" under the minimum length is not used (it would shred ordinary text).
    await ch.post({ type: 'log.append', stream: 'gate', text: 'a short line' });
    assert.deepEqual(port.posted.at(-1), { type: 'log.append', stream: 'gate', text: 'a short line' });
    assert.deepEqual(redactDeep({ [KEY]: [KEY, 1, { k: `x${KEY}y` }] }, [KEY]), { [REDACTED]: [REDACTED, 1, { k: `x${REDACTED}y` }] });
  });

  it('SEC-22 the host never posts a message that fails its own schema (the webview validates too)', async () => {
    const port = fakePort();
    const log = recordingLogger();
    const ch = new WebviewChannel(port, log, () => [], () => undefined);
    const bad = { type: 'log.append', stream: 'shell', text: 'x' } as never;
    assert.equal(await ch.post(bad), false);
    assert.equal(port.posted.length, 0);
    assert.ok(log.lines.some((l) => l.startsWith('error host message log.append not posted')));
    assert.ok(!parseHostMessage({ type: 'log.append', stream: 'gate', text: 'x'.repeat(1_000_001) }).ok, 'chunks are capped');
  });
});
