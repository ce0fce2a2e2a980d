import * as fs from 'node:fs';
import { z } from 'zod';

/** Why an untrusted JSON file was rejected. Stable strings (they go into reports). */
export type UntrustedJsonRule = 'missing' | 'not-regular-file' | 'too-large' | 'malformed' | 'prototype-key' | 'schema';

export class UntrustedJsonError extends Error {
  constructor(
    readonly rule: UntrustedJsonRule,
    message: string,
  ) {
    super(message);
    this.name = 'UntrustedJsonError';
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** First key anywhere in a parsed value that could reach an object prototype. */
function prototypeKey(value: unknown, depth = 0): string | undefined {
  if (depth > 64 || value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const inner = prototypeKey((value as Record<string, unknown>)[key], depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Read a JSON file written by untrusted code: the path itself must not be a symlink, the opened
 * file must be a regular file (no FIFO — opened non-blocking so a FIFO cannot hang us — device or
 * directory), at most `maxBytes`, valid JSON with no `__proto__`/`constructor`/`prototype` keys,
 * and match `schema`. Throws UntrustedJsonError with a clear message; never anything else.
 */
export function readUntrustedJson<S extends z.core.$ZodType>(file: string, schema: S, maxBytes = 1024 * 1024, label = 'file'): z.output<S> {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink at the final component fails with ELOOP instead of being followed.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UntrustedJsonError('missing', `${label} is missing`);
    if (code === 'ELOOP') throw new UntrustedJsonError('not-regular-file', `${label} is a symlink (refused)`);
    throw new UntrustedJsonError('not-regular-file', `${label} cannot be opened: ${code ?? String(err)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UntrustedJsonError('not-regular-file', `${label} is not a regular file (refused)`);
    if (st.size > maxBytes) throw new UntrustedJsonError('too-large', `${label} is ${st.size} bytes (limit ${maxBytes})`);
    // Read at most maxBytes + 1 even if the file grows after fstat.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > maxBytes) throw new UntrustedJsonError('too-large', `${label} is over ${maxBytes} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.subarray(0, n).toString('utf8'));
    } catch (err) {
      throw new UntrustedJsonError('malformed', `${label} is not valid JSON: ${(err as Error).message}`);
    }
    const bad = prototypeKey(parsed);
    if (bad) throw new UntrustedJsonError('prototype-key', `${label} contains the forbidden key "${bad}"`);
    const r = z.safeParse(schema, parsed);
    if (!r.success) {
      const first = r.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : '(root)';
      throw new UntrustedJsonError('schema', `${label} does not match its schema at ${where}: ${first?.message ?? 'invalid'}`);
    }
    return r.data;
  } finally {
    fs.closeSync(fd);
  }
}
