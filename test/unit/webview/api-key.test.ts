import * as assert from 'node:assert/strict';
import { setApiKeyFlow, validateApiKey, type ApiKeyProvider, type ApiKeyUi } from '../../../src/extension/secrets/api-key-flow';
import type { Logger } from '../../../src/core/util/log';

const KEY = 'sk-ant-api03-SECRET-0123456789abcdefghijklmnop';

function harness(provider: ApiKeyProvider | undefined, answer: string | undefined) {
  const stored = new Map<string, string>();
  const deleted: string[] = [];
  const shown: string[] = [];
  const logged: string[] = [];
  let validator: ((v: string) => string | undefined) | undefined;
  const rec = (m: string | Error, ...a: unknown[]) => void logged.push(`${String(m)} ${JSON.stringify(a)}`);
  const log: Logger = { trace: rec, debug: rec, info: rec, warn: rec, error: rec };
  const ui: ApiKeyUi = {
    pickProvider: async () => provider,
    askKey: async (_p, validate) => {
      validator = validate;
      return answer;
    },
    info: (m) => void shown.push(m),
  };
  const secrets = {
    store: async (k: string, v: string) => void stored.set(k, v),
    delete: async (k: string) => void deleted.push(k),
  };
  return { ui, secrets, log, stored, deleted, shown, logged, validate: () => validator };
}

describe('Factory: Set API Key (flow)', () => {
  it('SEC-24 the key goes to SecretStorage only: never to the log or a message', async () => {
    const h = harness('anthropic', KEY);
    assert.equal(await setApiKeyFlow(h.ui, h.secrets, h.log), true);
    assert.deepEqual([...h.stored], [['factory.apiKey.anthropic', KEY]]);
    assert.ok(![...h.logged, ...h.shown].some((t) => t.includes(KEY) || t.includes(KEY.slice(0, 12))));
    assert.match(h.shown[0] ?? '', /SecretStorage/);
  });

  it('SEC-24 an empty answer removes the stored key; cancelling changes nothing', async () => {
    const h = harness('openai', '');
    await setApiKeyFlow(h.ui, h.secrets, h.log);
    assert.deepEqual(h.deleted, ['factory.apiKey.openai']);
    const c = harness('openai', undefined);
    assert.equal(await setApiKeyFlow(c.ui, c.secrets, c.log), false);
    assert.equal(c.stored.size + c.deleted.length, 0);
    const n = harness(undefined, KEY);
    assert.equal(await setApiKeyFlow(n.ui, n.secrets, n.log), false);
    assert.equal(n.stored.size, 0);
  });

  it('refuses keys too short to redact safely, or with spaces and line breaks', async () => {
    assert.match(validateApiKey('short') ?? '', /at least 8/);
    assert.match(validateApiKey(`${KEY}\n`) ?? '', /spaces/);
    assert.match(validateApiKey('abc def ghi jkl') ?? '', /no spaces/);
    assert.equal(validateApiKey(KEY), undefined);
    const h = harness('gemini', 'short');
    assert.equal(await setApiKeyFlow(h.ui, h.secrets, h.log), false);
    assert.equal(h.stored.size, 0);
    assert.match(h.validate()?.('short') ?? '', /at least 8/, 'the input box shows why');
  });
});
