/**
 * The Controller model's one request, per provider, sent from the host over the gateway's Unix
 * socket — the same wire the Worker's shim forwards to (`/<provider>/<the provider's path>`), so
 * the gateway's allow-list, key injection, metering and budget apply to the Controller too. The
 * request carries no key: the gateway adds the host's.
 */
import { modelProvider } from '../../config/routing-check';
import * as http from 'node:http';
import { z } from 'zod';
import type { Provider } from '../../gateway/usage';

/** Output tokens asked for: a scope list is short, and this keeps one answer's price bounded. */
const MAX_OUTPUT_TOKENS = 2048;
/** The largest provider response read. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** The whole exchange; the gateway's own upstream idle cut is longer. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * The provider that serves `model`: `explicit` when given, else from the model's name, as the
 * routing table's checks read it (config/routing-check.ts `modelProvider`). Undefined when the name
 * says nothing (then `controller.provider` must be set).
 */
export function controllerProvider(model: string, explicit?: Provider): Provider | undefined {
  return explicit ?? modelProvider(model);
}

/** The gateway path and JSON body of one non-streaming request for `model`. */
function requestFor(provider: Provider, model: string, system: string, user: string): { path: string; body: unknown; headers: Record<string, string> } {
  switch (provider) {
    case 'anthropic':
      return {
        path: '/anthropic/v1/messages',
        body: { model, max_tokens: MAX_OUTPUT_TOKENS, system, messages: [{ role: 'user', content: user }] },
        headers: { 'anthropic-version': '2023-06-01' },
      };
    case 'openai':
      return {
        path: '/openai/v1/chat/completions',
        body: { model, max_completion_tokens: MAX_OUTPUT_TOKENS, messages: [{ role: 'system', content: system }, { role: 'user', content: user }] },
        headers: {},
      };
    case 'gemini':
      return {
        path: `/gemini/v1beta/models/${encodeURIComponent(model.replace(/^models\//, ''))}:generateContent`,
        body: { systemInstruction: { parts: [{ text: system }] }, contents: [{ role: 'user', parts: [{ text: user }] }], generationConfig: { maxOutputTokens: MAX_OUTPUT_TOKENS } },
        headers: {},
      };
  }
}

// Only the text is read from a response; everything else in it is ignored (loose), nothing trusted.
const anthropicResponse = z.looseObject({ content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })) });
const openaiResponse = z.looseObject({ choices: z.array(z.looseObject({ message: z.looseObject({ content: z.string().nullable().optional() }) })).min(1) });
const geminiResponse = z.looseObject({
  candidates: z.array(z.looseObject({ content: z.looseObject({ parts: z.array(z.looseObject({ text: z.string().optional() })) }) })).min(1),
});

/** The answer's text from a provider's JSON response; throws when the shape is not the provider's. */
function answerText(provider: Provider, json: unknown): string {
  switch (provider) {
    case 'anthropic':
      return anthropicResponse.parse(json).content.map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
    case 'openai':
      return openaiResponse.parse(json).choices[0].message.content ?? '';
    case 'gemini':
      return geminiResponse.parse(json).candidates[0].content.parts.map((p) => p.text ?? '').join('');
  }
}

/** What one exchange gave: the status and the body (at most MAX_RESPONSE_BYTES). */
interface Reply {
  status: number;
  body: string;
}

/** POST `body` as JSON to `path` on the gateway's Unix socket; aborts with `signal`. */
function post(socketPath: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<Reply> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': String(data.length), ...headers }, timeout: REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) return void req.destroy(new Error(`the response is over ${MAX_RESPONSE_BYTES} bytes`));
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** The provider's error message from an error body, if it has one (for the log). */
function errorDetail(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof j.error?.message === 'string') return j.error.message.slice(0, 300);
  } catch {
    // not JSON: the status says enough
  }
  return body.slice(0, 200);
}

/**
 * Ask `model` once through the gateway at `socketPath`; returns the answer's text. Throws on a
 * refusal (the gateway's budget or allow-list), an upstream error, or a response of the wrong shape.
 */
export async function askController(socketPath: string, provider: Provider, model: string, prompt: { system: string; user: string }, signal?: AbortSignal): Promise<string> {
  const r = requestFor(provider, model, prompt.system, prompt.user);
  const reply = await post(socketPath, r.path, r.body, r.headers, signal);
  if (reply.status !== 200) throw new Error(`${provider} answered HTTP ${reply.status}: ${errorDetail(reply.body)}`);
  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch {
    throw new Error(`${provider} answered something that is not JSON`);
  }
  try {
    return answerText(provider, json);
  } catch {
    throw new Error(`${provider}'s response has no answer text where its API puts it`);
  }
}
