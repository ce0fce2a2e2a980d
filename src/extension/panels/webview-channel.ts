/**
 * The host end of a webview's message channel (SECURITY 22, 25). Incoming messages are validated
 * with zod; anything invalid is dropped and logged (by issue codes only) and never reaches a
 * handler, so no command, path or shell ever sees it. Outgoing messages are validated too, and
 * every string in them is passed through the gateway's `redact` first: a key that slipped into a
 * log or a manifest is never shown.
 */
import type * as vscode from 'vscode';
import { redact } from '../../core/gateway/redact';
import type { Logger } from '../../core/util/log';
import { hostMessage, parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../shared/protocol';

/** The parts of `vscode.Webview` the channel uses (a real Webview satisfies it). */
export interface WebviewPort {
  onDidReceiveMessage: vscode.Webview['onDidReceiveMessage'];
  postMessage(message: unknown): Thenable<boolean>;
}

/** Where the secrets to redact come from (SecretStorage keys, the host's key variables). */
export type SecretsSource = () => Iterable<string | undefined>;

/** Every string inside `value` (object keys included) with the secrets redacted. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k, secrets), walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export class WebviewChannel {
  private readonly subscription: vscode.Disposable;
  /** Messages dropped so far (for tests and the log). */
  dropped = 0;

  constructor(
    private readonly port: WebviewPort,
    private readonly log: Logger,
    private readonly secrets: SecretsSource,
    handler: (m: WebviewMessage) => void | Promise<void>,
  ) {
    this.subscription = port.onDidReceiveMessage((raw: unknown) => {
      const parsed = parseWebviewMessage(raw);
      if (!parsed.ok) {
        this.dropped++;
        this.log.warn(`webview message dropped (failed validation: ${parsed.error})`);
        return;
      }
      try {
        const r = handler(parsed.message);
        if (r) r.catch((err: unknown) => this.log.error(`webview message ${parsed.message.type} failed: ${String(err)}`));
      } catch (err) {
        this.log.error(`webview message ${parsed.message.type} failed: ${String(err)}`);
      }
    });
  }

  /** Redacts, validates and posts. Returns false when the webview is gone or the message is invalid. */
  async post(message: HostMessage): Promise<boolean> {
    const clean = redactDeep(message, [...this.secrets()].filter((s): s is string => typeof s === 'string'));
    const checked = hostMessage.safeParse(clean);
    if (!checked.success) {
      this.log.error(`host message ${message.type} not posted (failed validation: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`).join('; ')})`);
      return false;
    }
    try {
      return await this.port.postMessage(checked.data);
    } catch {
      return false;
    }
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
