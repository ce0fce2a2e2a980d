import * as assert from 'node:assert/strict';
import { matchRoute, upstreamUrl } from '../../../src/core/gateway/routes';

describe('gateway allow-list', () => {
  it('allows exactly the model API calls of each provider', () => {
    assert.equal(matchRoute('POST', '/anthropic/v1/messages?beta=true')?.upstreamPath, '/v1/messages?beta=true');
    assert.equal(matchRoute('POST', '/anthropic/v1/messages/count_tokens')?.metered, false);
    assert.equal(matchRoute('POST', '/openai/v1/chat/completions')?.chatCompletions, true);
    assert.equal(matchRoute('POST', '/openai/v1/responses')?.metered, true);
    const g = matchRoute('POST', '/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=leak');
    assert.equal(g?.urlModel, 'gemini-2.5-pro');
    assert.equal(g?.upstreamPath, '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse', 'a key in the query is dropped');
  });

  it('SEC-02 refuses forward-proxy URLs, traversal, encoded separators, other paths, methods and providers', () => {
    for (const [m, u] of [
      ['GET', 'http://example.com/'], ['POST', 'http://127.0.0.1:9/anthropic/v1/messages'], ['POST', '//example.com/anthropic/v1/messages'],
      ['POST', '/anthropic/v1/messages/../../v1/files'], ['POST', '/openai/v1%2Fresponses'], ['POST', '/openai/v1/responses%5c..'],
      ['POST', '/anthropic/v1/files'], ['GET', '/anthropic/v1/messages'], ['POST', '/azure/v1/messages'], ['POST', '/'], ['CONNECT', 'example.com:443'],
      ['POST', '/gemini/v1beta/models/x:deleteEverything'], ['POST', '/gemini/v1beta/models/../tunedModels:generateContent'],
    ]) {
      assert.equal(matchRoute(m, u), undefined, `${m} ${u}`);
    }
  });

  it('joins upstream bases with a path prefix (corporate proxies) without dropping it', () => {
    assert.equal(upstreamUrl('https://proxy.example.invalid/llm/', '/v1/messages?x=1').href, 'https://proxy.example.invalid/llm/v1/messages?x=1');
    assert.equal(upstreamUrl('http://127.0.0.1:8080', '/v1/responses').href, 'http://127.0.0.1:8080/v1/responses');
  });
});
