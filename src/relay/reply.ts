import type * as http from 'node:http';

/** What a request did, for its one log line (never a token, header or body). */
export interface RequestNote {
  route: 'health' | 'bundle' | 'result' | 'model' | 'other';
  job?: string;
  reason?: string;
  bytes?: number;
}

/**
 * A short JSON answer. A refusal before the body was read goes with `discard(req)`, and the
 * connection stays open while the rest arrives: closing it at once would reset a client still
 * sending, which would then see EPIPE instead of the status.
 */
export function reply(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ status, message });
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads and drops what is left of a refused request's body, up to `max` bytes, then cuts the connection. */
export function discard(req: http.IncomingMessage, max = 64 * 1024 * 1024): void {
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > max) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

/** Error code of a node error, if any. */
export function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}
