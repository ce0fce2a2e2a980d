import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** Engine calls that should be instant (create, start, kill, inspect, remove) get this long. */
export const ENGINE_CALL_MS = 15_000;

/** Promise with a deadline; the loser is left to settle on its own (its result ignored). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer from the engine within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** POST /containers/create through the modem so the engine's `Warnings` are not dropped. */
export async function createWithWarnings(docker: Docker, body: Docker.ContainerCreateOptions): Promise<{ id: string; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/containers/create?',
        method: 'POST',
        options: body,
        statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
      },
      (err, data) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const d = data as { Id?: string; Warnings?: string[] | null };
        if (!d?.Id) return reject(new Error('engine returned no container id'));
        resolve({ id: d.Id, warnings: (d.Warnings ?? []).filter((w) => w.trim() !== '') });
      },
    );
  });
}

/**
 * POST /containers/{id}/wait?condition=next-exit as a stream: resolves `registered` once the
 * engine has answered the headers (so a start after it cannot be missed), then `exit` with the code.
 */
export function waitNextExit(docker: Docker, id: string): { registered: Promise<void>; exit: Promise<{ StatusCode?: number; Error?: { Message?: string } | null }> } {
  let onRegistered!: () => void;
  let onRegFail!: (e: Error) => void;
  const registered = new Promise<void>((res, rej) => {
    onRegistered = res;
    onRegFail = rej;
  });
  const exit = new Promise<{ StatusCode?: number; Error?: { Message?: string } | null }>((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        options: { condition: 'next-exit' },
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
      },
      (err, stream) => {
        if (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          onRegFail(e);
          return reject(e);
        }
        onRegistered();
        const s = stream as Readable;
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('error', reject);
        s.on('close', () => {
          const text = Buffer.concat(chunks).toString('utf8').trim();
          if (!text) return reject(new Error('connection to the engine closed while waiting for the container'));
          try {
            resolve(JSON.parse(text) as { StatusCode?: number });
          } catch {
            reject(new Error(`unreadable wait answer from the engine: ${text.slice(0, 200)}`));
          }
        });
      },
    );
  });
  // Both are observed by the caller, but not always: keep unhandled rejections out of the log.
  registered.catch(() => undefined);
  exit.catch(() => undefined);
  return { registered, exit };
}

/**
 * Demultiplex Docker's attach stream (8-byte frame header: stream type, 3 zero bytes, big-endian
 * length) into stdout/stderr chunks, handling frames split across reads.
 */
export class AttachDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly emit: (stream: 'stdout' | 'stderr', chunk: Buffer) => void) {}

  push(data: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (size > 0) this.emit(type === 2 ? 'stderr' : 'stdout', payload);
    }
  }
}