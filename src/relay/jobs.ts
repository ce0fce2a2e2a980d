import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOB_ID_PATTERN, RELAY_JOB_FILES, type RelayJobMeta } from '../core/contracts/relay-protocol';

// One job's folder as the relay sees it (`$RELAY_DIR/jobs/<jobId>/`, written by the Controller):
// who may use it (the token's hash) and what it allows (meta.json). Never follows a symlink.

/** The job's folder, or undefined when `id` is not a job id (then nothing is joined with it). */
export function jobDir(root: string, id: string): string | undefined {
  return JOB_ID_PATTERN.test(id) ? path.join(root, 'jobs', id) : undefined;
}

/** A small file of the job folder, not through a symlink; undefined when absent or larger than `max`. */
export async function readSmall(file: string, max: number): Promise<Buffer | undefined> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) return undefined;
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Whether sha256(`token`) is the job's `token.sha256` (constant-time). False when the job has no valid hash. */
export async function tokenMatches(dir: string, token: string): Promise<boolean> {
  const raw = await readSmall(path.join(dir, RELAY_JOB_FILES.tokenHash), 256);
  const hex = raw?.toString('utf8').trim().toLowerCase();
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return false;
  const expected = Buffer.from(hex, 'hex');
  const actual = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(expected, actual);
}

/** The job's `meta.json`, or undefined when absent or malformed (the relay then refuses what needs it). */
export async function readMeta(dir: string): Promise<RelayJobMeta | undefined> {
  const raw = await readSmall(path.join(dir, RELAY_JOB_FILES.meta), 64 * 1024);
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  const max = m.maxResultBytes;
  if (m.schema_version !== 1 || typeof m.gateway !== 'boolean') return undefined;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) return undefined;
  return { schema_version: 1, maxResultBytes: max, gateway: m.gateway };
}
