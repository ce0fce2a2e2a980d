import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RELAY_JOB_FILES } from '../core/contracts/relay-protocol';
import { readMeta } from './jobs';
import { discard, errCode, reply, type RequestNote } from './reply';

// The two file routes of a job: the bundle, served once, and the result, received once and capped.

/** `GET /jobs/<id>/bundle`: streams bundle.tar the first time; 410 afterwards (the marker is O_EXCL). */
export async function serveBundle(dir: string, res: http.ServerResponse, note: RequestNote): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path.join(dir, RELAY_JOB_FILES.bundle), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    note.reason = 'no bundle';
    return reply(res, 404, 'no bundle for this job');
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      note.reason = 'bundle not a file';
      return reply(res, 404, 'no bundle for this job');
    }
    try {
      await fs.promises.writeFile(path.join(dir, RELAY_JOB_FILES.bundleServed), new Date().toISOString(), { flag: 'wx' });
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err;
      note.reason = 'bundle already served';
      return reply(res, 410, 'the bundle was already downloaded');
    }
    res.writeHead(200, { 'content-type': 'application/x-tar', 'content-length': st.size });
    note.bytes = st.size;
    await pipeline(fh.createReadStream({ autoClose: false }), res);
  } finally {
    await fh.close();
  }
}

class TooLarge extends Error {}

/** Counts bytes through; fails with TooLarge past `max`. */
function capped(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      if (seen > max) done(new TooLarge('too large'));
      else done(null, chunk);
    },
  });
}

/** `PUT /jobs/<id>/result`: result.tar.part (O_EXCL), capped at meta.maxResultBytes, then linked to result.tar (never replacing one). */
export async function receiveResult(dir: string, req: http.IncomingMessage, res: http.ServerResponse, note: RequestNote): Promise<void> {
  const meta = await readMeta(dir);
  const final = path.join(dir, RELAY_JOB_FILES.result);
  const part = path.join(dir, RELAY_JOB_FILES.resultPart);
  const refuse = (status: number, reason: string, message: string): void => {
    note.reason = reason;
    reply(res, status, message);
    discard(req);
  };
  if (meta === undefined) return refuse(500, 'no meta.json', 'the job has no valid meta.json');
  if (fs.existsSync(final)) return refuse(409, 'result already uploaded', 'the result was already uploaded');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > meta.maxResultBytes) return refuse(413, 'result over the cap (declared)', `the result exceeds ${meta.maxResultBytes} bytes`);
  let fh: fs.promises.FileHandle;
  try {
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    fh = await fs.promises.open(part, flags, 0o644);
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    return refuse(409, 'result upload in progress', 'a result upload is already in progress');
  }
  try {
    await receiveInto(req, capped(meta.maxResultBytes), fh);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.promises.rm(part, { force: true });
    if (err instanceof TooLarge) return refuse(413, 'result over the cap', `the result exceeds ${meta.maxResultBytes} bytes`);
    throw err;
  }
  await fh.close();
  await finishResult(part, final, res, note);
}

/**
 * req → counter → file, awaiting each write. Not `pipeline(req, …)`: that would destroy the request's socket on the
 * cap, and the 413 could not be sent. An aborted upload fails the counter.
 */
async function receiveInto(req: http.IncomingMessage, counter: Transform, out: fs.promises.FileHandle): Promise<void> {
  const onClose = (): void => {
    if (!req.complete) counter.destroy(new Error('upload aborted'));
  };
  req.on('close', onClose);
  req.pipe(counter);
  try {
    for await (const chunk of counter) await out.write(chunk as Buffer);
  } finally {
    req.off('close', onClose);
    req.unpipe(counter);
  }
}

/** link(2) fails when result.tar exists, so a finished result is never replaced. */
async function finishResult(part: string, final: string, res: http.ServerResponse, note: RequestNote): Promise<void> {
  try {
    await fs.promises.link(part, final);
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    note.reason = 'result already uploaded';
    return reply(res, 409, 'the result was already uploaded');
  } finally {
    await fs.promises.rm(part, { force: true });
  }
  note.bytes = (await fs.promises.stat(final)).size;
  reply(res, 201, 'result stored');
}
