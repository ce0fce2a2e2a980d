import * as assert from 'node:assert/strict';
import { SECRET_IDS, checkKey, keysFromSecrets } from '../../../src/core/gateway/keys';
import { keysFromEnv } from '../../../src/core/gateway/gateway';

describe('key sources (SecretStorage for the extension, the environment for the CLI)', () => {
  it('reads each provider\'s key from a secret store by its id, skipping empty ones', async () => {
    const store = new Map([[SECRET_IDS.anthropic, ' sk-ant-secret-1234 '], [SECRET_IDS.gemini, '']]);
    const asked: string[] = [];
    const keys = await keysFromSecrets(async (id) => {
      asked.push(id);
      return store.get(id);
    });
    assert.deepEqual(keys, { anthropic: 'sk-ant-secret-1234' });
    assert.deepEqual(asked.sort(), Object.values(SECRET_IDS).sort());
  });

  it('reads the CLI\'s keys from the host environment, first non-empty name wins', () => {
    assert.deepEqual(keysFromEnv({ ANTHROPIC_API_KEY: 'a-key-123456', OPENAI_API_KEY: '', CODEX_API_KEY: 'c-key-123456', GOOGLE_API_KEY: 'g-key-123456' }), {
      anthropic: 'a-key-123456', openai: 'c-key-123456', gemini: 'g-key-123456',
    });
    assert.deepEqual(keysFromEnv({}), {});
  });

  it('refuses keys that are too short to redact, or hold spaces or non-ASCII', () => {
    assert.equal(checkKey('sk-ant-api03-abcdef'), undefined);
    assert.match(checkKey('short') ?? '', /at least 8/);
    assert.match(checkKey('sk-ant api03') ?? '', /no spaces/);
    assert.match(checkKey('sk-ant-ключ-123') ?? '', /printable ASCII/);
  });
});
