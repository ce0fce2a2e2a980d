import type * as http from 'node:http';
import type { Route } from './routes';
import type { Provider } from './usage';

// The HTTP plumbing of one proxied call: what crosses between the container and the upstream
// (headers, body, error shape). The gateway (gateway.ts) owns admission, metering and records.

/** Headers never passed through, in either direction. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length',
  // Credentials from the container are dropped; the gateway sets its own.
  'authorization', 'x-api-key', 'x-goog-api-key', 'api-key',
  // Responses must come back uncompressed so usage can be read as they stream past.
  'accept-encoding',
]);

/** An upstream silent this long is cut. */
export const UPSTREAM_IDLE_MS = 10 * 60_000;

/** The headers of `from` without hop-by-hop headers and the container's credentials. */
export function withoutHopByHop(from: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(from)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

/** The container's request headers as sent upstream: its credentials replaced by the host's key. */
export function upstreamHeaders(from: http.IncomingHttpHeaders, provider: Provider, key: string, length: number): http.OutgoingHttpHeaders {
  const headers = withoutHopByHop(from);
  headers['accept-encoding'] = 'identity';
  headers['content-length'] = String(length);
  if (provider === 'anthropic') headers['x-api-key'] = key;
  else if (provider === 'openai') headers.authorization = `Bearer ${key}`;
  else headers['x-goog-api-key'] = key;
  return headers;
}

/** A provider-shaped error body, so the agent prints a message a person understands. */
export function errorBody(provider: Provider | undefined, status: number, kind: string, message: string): string {
  switch (provider) {
    case 'anthropic':
      return JSON.stringify({ type: 'error', error: { type: kind, message } });
    case 'gemini':
      return JSON.stringify({ error: { code: status, message, status: kind.toUpperCase() } });
    default:
      return JSON.stringify({ error: { message, type: kind, code: kind } });
  }
}

/** The request body, refused (throws) past `max` bytes. */
export async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    size += chunk.length;
    if (size > max) throw new Error('too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Read the model and stream flag from a JSON request body. For streamed Chat Completions, ask the
 * upstream to include usage in the last chunk (otherwise a stream carries no token counts).
 */
export function prepareBody(route: Route, body: Buffer): { body: Buffer; model?: string; stream: boolean } {
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = body.length ? JSON.parse(body.toString('utf8')) : undefined;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
  } catch {
    return { body, stream: false };
  }
  const model = typeof json?.model === 'string' ? json.model : route.urlModel;
  const stream = json?.stream === true || /:streamGenerateContent/.test(route.upstreamPath);
  if (json && route.chatCompletions && stream) {
    const so = json.stream_options && typeof json.stream_options === 'object' ? (json.stream_options as Record<string, unknown>) : {};
    if (so.include_usage !== true) {
      json.stream_options = { ...so, include_usage: true };
      return { body: Buffer.from(JSON.stringify(json)), model, stream };
    }
  }
  return { body, model, stream };
}
