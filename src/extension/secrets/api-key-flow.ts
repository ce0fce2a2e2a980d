/**
 * "Factory: Set API Key" without `vscode` at run time (SECURITY 24, UI side): the key is asked for
 * in a password box and goes to SecretStorage ONLY — never to settings, files, the log or a
 * webview. The gateway reads it back on the host side; the panels redact it (SECURITY 25).
 */
import { MIN_SECRET_LENGTH } from '../../core/gateway/redact';
import { KEY_ENV } from '../../core/gateway/routes';
import type { Logger } from '../../core/util/log';

/** SecretStorage keys the API keys are kept under: `factory.apiKey.<provider>`. */
export const API_KEY_SECRET_PREFIX = 'factory.apiKey.';
export type ApiKeyProvider = keyof typeof KEY_ENV;
export const API_KEY_PROVIDERS = Object.keys(KEY_ENV) as ApiKeyProvider[];

export function secretName(provider: ApiKeyProvider): string {
  return `${API_KEY_SECRET_PREFIX}${provider}`;
}

/** Why a pasted key is refused, or undefined when it is acceptable. */
export function validateApiKey(key: string): string | undefined {
  if (key.trim() !== key) return 'The key has leading or trailing spaces.';
  if (key.length < MIN_SECRET_LENGTH) return `A key has at least ${MIN_SECRET_LENGTH} characters.`;
  if (/\s/.test(key)) return 'A key has no spaces or line breaks.';
  return undefined;
}

/** The editor's UI and storage as the flow needs them (vscode.window / SecretStorage satisfy it). */
export interface ApiKeyUi {
  pickProvider(providers: readonly ApiKeyProvider[]): Thenable<ApiKeyProvider | undefined>;
  /** A password input box; `validate` returns the message to show, or undefined. */
  askKey(provider: ApiKeyProvider, validate: (v: string) => string | undefined): Thenable<string | undefined>;
  info(message: string): void;
}

/** The keys "Factory: Set API Key" stored, per provider (unreadable entries are skipped). */
export async function storedApiKeys(storage: { get(key: string): Thenable<string | undefined> }): Promise<Partial<Record<ApiKeyProvider, string>>> {
  const keys: Partial<Record<ApiKeyProvider, string>> = {};
  for (const p of API_KEY_PROVIDERS) {
    const v = await Promise.resolve(storage.get(secretName(p))).catch(() => undefined);
    if (v?.trim()) keys[p] = v.trim();
  }
  return keys;
}

export interface SecretStore {
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

/**
 * Asks for a provider and its key and stores the key in SecretStorage. An empty key removes the
 * stored one. The log and the confirmation name the provider only.
 */
export async function setApiKeyFlow(ui: ApiKeyUi, secrets: SecretStore, log: Logger): Promise<boolean> {
  const provider = await ui.pickProvider(API_KEY_PROVIDERS);
  if (!provider) return false;
  const key = await ui.askKey(provider, (v) => (v === '' ? undefined : validateApiKey(v)));
  if (key === undefined) return false;
  if (key === '') {
    await secrets.delete(secretName(provider));
    log.info(`API key for ${provider} removed from SecretStorage`);
    ui.info(`Agentic Factory: the ${provider} API key was removed.`);
    return true;
  }
  if (validateApiKey(key)) return false;
  await secrets.store(secretName(provider), key);
  log.info(`API key for ${provider} stored in SecretStorage`);
  ui.info(`Agentic Factory: the ${provider} API key is stored in VS Code's SecretStorage (not in settings or files).`);
  return true;
}
