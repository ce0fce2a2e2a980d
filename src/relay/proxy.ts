import * as http from 'node:http';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RELAY_JOB_FILES, RELAY_LIMITS } from '../core/contracts/relay-protocol';
import { forwardHeaders } from './headers';
import { readMeta } from './jobs';
import { discard, reply, type RequestNote } from './reply';

// `/jobs/<id>/model/<path>` → the job's gateway.sock (which the Controller forwards to the cycle's
// metered gateway). The relay holds no key: it drops the job's token, hop-by-hop headers and Host,
// and streams the answer back chunk by chunk (server-sent events).

class TooLarge extends Error {}

/** The request body, refused (throws TooLarge) past `max` bytes. */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    size += chunk.length;
    if (size > max) throw new TooLarge('too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface ModelCall {
  dir: string;
  /** The gateway path (`/…`, after the `model` prefix) with its query. */
  target: string;
  maxBody?: number;
}

/** Forwards one model call; answers 403 when the job has no gateway, 413 past the body cap, 502 when the socket does not answer. */
export async function proxyModel(call: ModelCall, req: http.IncomingMessage, res: http.ServerResponse, note: RequestNote): Promise<void> {
  const max = call.maxBody ?? RELAY_LIMITS.modelRequestBytes;
  const meta = await readMeta(call.dir);
  if (meta?.gateway !== true) {
    note.reason = 'no gateway for this job';
    reply(res, 403, 'this job may not call the model gateway');
    return discard(req);
  }
  if (Number(req.headers['content-length'] ?? '0') > max) {
    note.reason = 'model request over the cap (declared)';
    reply(res, 413, `request body over ${max} bytes`);
    return discard(req);
  }
  let body: Buffer;
  try {
    body = await readBody(req, max);
  } catch (err) {
    if (!(err instanceof TooLarge)) throw err;
    note.reason = 'model request over the cap';
    reply(res, 413, `request body over ${max} bytes`);
    return discard(req);
  }
  note.bytes = body.length;
  await forward(call, req, body, res, note);
}

function forward(call: ModelCall, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, note: RequestNote): Promise<void> {
  return new Promise((resolve) => {
    const headers = forwardHeaders(req.headers, true);
    if (body.length > 0 || !['GET', 'HEAD'].includes(req.method ?? 'GET')) headers['content-length'] = body.length;
    const up = http.request({
      socketPath: path.join(call.dir, RELAY_JOB_FILES.gatewaySocket),
      method: req.method,
      path: call.target,
      headers,
    });
    up.setTimeout(RELAY_LIMITS.idleTimeoutMs, () => up.destroy(new Error('gateway silent')));
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on('error', (err) => {
      note.reason = `gateway: ${err.message}`;
      if (!res.headersSent) reply(res, 502, 'the model gateway did not answer');
      else res.destroy();
      resolve();
    });
    up.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
      res.flushHeaders();
      pipeline(answer, res).then(resolve, (err: Error) => {
        note.reason = `stream: ${err.message}`;
        resolve();
      });
    });
    up.end(body);
  });
}
