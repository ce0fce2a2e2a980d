import { MIN_SECRET_LENGTH } from './redact';
import { PROVIDERS, type Provider } from './usage';

/**
 * Where each provider's key lives in VS Code's SecretStorage ("Factory: Set API Key"). The
 * extension reads them with `context.secrets.get(id)` and hands the result to the gateway; keys
 * never go to settings, files or the container.
 */
export const SECRET_IDS: Readonly<Record<Provider, string>> = {
  anthropic: 'factory.apiKey.anthropic',
  openai: 'factory.apiKey.openai',
  gemini: 'factory.apiKey.gemini',
};

/** Provider → key from any secret store (`get` is e.g. `(id) => context.secrets.get(id)`). */
export async function keysFromSecrets(get: (id: string) => PromiseLike<string | undefined>): Promise<Partial<Record<Provider, string>>> {
  const keys: Partial<Record<Provider, string>> = {};
  for (const p of PROVIDERS) {
    const v = (await get(SECRET_IDS[p]))?.trim();
    if (v) keys[p] = v;
  }
  return keys;
}

/**
 * Why a pasted key would not work (or would be unsafe to handle), or undefined when it looks
 * usable. Too-short keys are refused because redaction ignores strings that short.
 */
export function checkKey(key: string): string | undefined {
  const k = key.trim();
  if (k.length < MIN_SECRET_LENGTH) return `a key has at least ${MIN_SECRET_LENGTH} characters`;
  if (/\s/.test(k)) return 'a key has no spaces or line breaks';
  if (/[^\x21-\x7e]/.test(k)) return 'a key is printable ASCII only';
  return undefined;
}
