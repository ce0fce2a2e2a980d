import type * as http from 'node:http';

// Header plumbing shared by the relay (src/relay/server.ts) and the swarm task's boot script
// (src/relay/boot.ts): node built-ins only, so the boot bundle stays small.

/** Never forwarded, either way: hop-by-hop headers, the host, and the job's bearer token. */
const DROPPED = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'authorization',
]);

/** `from` without hop-by-hop headers, Host and Authorization (and whatever `Connection` names). */
export function forwardHeaders(from: http.IncomingHttpHeaders, dropLength = false): http.OutgoingHttpHeaders {
  const named = new Set(
    String(from.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ''),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(from)) {
    if (v === undefined || DROPPED.has(k) || named.has(k)) continue;
    if (dropLength && k === 'content-length') continue;
    out[k] = v;
  }
  return out;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header.trim());
  return m ? m[1] : undefined;
}
