import type * as http from 'node:http';
import { PROVIDERS, type Provider } from './usage';

/** Where each provider is reached when no override is configured. */
export const DEFAULT_UPSTREAMS: Readonly<Record<Provider, string>> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

/** The host environment variable each provider's key is read from by the CLI. */
export const KEY_ENV: Readonly<Record<Provider, readonly string[]>> = {
  anthropic: ['ANTHROPIC_API_KEY'],
  openai: ['OPENAI_API_KEY', 'CODEX_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
};

/** A request the gateway agreed to forward. */
export interface Route {
  provider: Provider;
  /** Path (and query) on the upstream, without the `/provider` prefix. */
  upstreamPath: string;
  /** Whether the call consumes tokens (so is metered and subject to the budget). */
  metered: boolean;
  /** Model named in the URL (Gemini). */
  urlModel?: string;
  /** OpenAI Chat Completions: the gateway asks for usage in the stream. */
  chatCompletions: boolean;
}

interface Rule {
  method: string;
  path: RegExp;
  metered: boolean;
}

/** The allow-list: every other method/path is refused (403) without touching the upstream. */
const RULES: Readonly<Record<Provider, readonly Rule[]>> = {
  anthropic: [
    { method: 'POST', path: /^\/v1\/messages$/, metered: true },
    { method: 'POST', path: /^\/v1\/messages\/count_tokens$/, metered: false },
    { method: 'GET', path: /^\/v1\/models$/, metered: false },
  ],
  openai: [
    { method: 'POST', path: /^\/v1\/chat\/completions$/, metered: true },
    { method: 'POST', path: /^\/v1\/responses$/, metered: true },
    { method: 'GET', path: /^\/v1\/models$/, metered: false },
  ],
  gemini: [
    { method: 'POST', path: /^\/v1(?:beta|alpha)?\/models\/[A-Za-z0-9._-]+:(?:generateContent|streamGenerateContent)$/, metered: true },
    { method: 'POST', path: /^\/v1(?:beta|alpha)?\/models\/[A-Za-z0-9._-]+:countTokens$/, metered: false },
    { method: 'GET', path: /^\/v1(?:beta|alpha)?\/models$/, metered: false },
  ],
};

/** Query parameters never forwarded (a key smuggled in the URL is replaced by the gateway's). */
const DROPPED_QUERY = new Set(['key', 'api_key', 'api-key']);

/**
 * Match a request line (`method`, origin-form `url` such as `/anthropic/v1/messages?beta=true`)
 * against the allow-list. Absolute-form URLs (`http://host/…`, i.e. use as a forward proxy),
 * unknown prefixes and unknown paths give `undefined`.
 */
export function matchRoute(method: string, url: string): Route | undefined {
  if (!url.startsWith('/') || url.startsWith('//')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://gateway.invalid');
  } catch {
    return undefined;
  }
  if (parsed.host !== 'gateway.invalid') return undefined;
  const m = /^\/(anthropic|openai|gemini)(\/.*)$/.exec(parsed.pathname);
  if (!m) return undefined;
  const provider = m[1] as Provider;
  const path = m[2];
  // Encoded slashes or dot segments could make the upstream see a different path than we checked.
  if (/%2f|%5c|\/\.\.?(\/|$)/i.test(path)) return undefined;
  const rule = RULES[provider].find((r) => r.method === method && r.path.test(path));
  if (!rule) return undefined;
  for (const k of [...parsed.searchParams.keys()]) if (DROPPED_QUERY.has(k.toLowerCase())) parsed.searchParams.delete(k);
  const urlModel = provider === 'gemini' ? /\/models\/([^:/]+)/.exec(path)?.[1] : undefined;
  return {
    provider,
    upstreamPath: path + parsed.search,
    metered: rule.metered,
    urlModel,
    chatCompletions: provider === 'openai' && path === '/v1/chat/completions',
  };
}

/** Join an upstream base URL (which may carry a path prefix) and a request path. */
export function upstreamUrl(base: string, upstreamPath: string): URL {
  const b = new URL(base);
  const prefix = b.pathname.replace(/\/+$/, '');
  return new URL(prefix + upstreamPath, b.origin);
}

/** Provider → API key: from SecretStorage (extension) or the host environment (CLI). */
export type ProviderKeys = Partial<Record<Provider, string>>;

/** Provider keys from the host environment (the CLI's key source). */
export function keysFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderKeys {
  const keys: ProviderKeys = {};
  for (const p of PROVIDERS) {
    const v = KEY_ENV[p].map((n) => env[n]).find((x) => x && x.trim());
    if (v) keys[p] = v.trim();
  }
  return keys;
}

/**
 * The gateway's own endpoint: the in-container runtime asks what the run has spent so far. It is
 * outside every provider prefix, so `matchRoute` never lets it (or anything under it) upstream.
 */
export const METER_PATH = '/_factory/meter';

/** `GET /_factory/meter` exactly: no query, no body. Any other form is refused like any unknown path. */
export function isMeterRequest(method: string, url: string, headers: http.IncomingHttpHeaders): boolean {
  if (method !== 'GET' || url !== METER_PATH) return false;
  const length = headers['content-length'];
  return headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}
