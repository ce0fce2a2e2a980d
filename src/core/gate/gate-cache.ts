import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { atomicWrite } from '../util/atomic-write';

/**
 * Spec §7-2.5 "identical Gate results are not re-run": a PASS is stored under a key made of the
 * tree under test, the guard and stage commands and the runner identity (image id). Only PASS is
 * cached; a FAIL is always re-run so a flaky failure gets its second chance.
 */

export interface GateCacheKeyInput {
  treeHash: string;
  guards: { name: string; argv: string[] }[];
  stages: { name: string; argv: string[] }[];
  /** Image id for container runs, host toolchain description otherwise. */
  runnerIdentity: string;
}

/** The cache key: sha256 over a canonical JSON of everything that decides the Gate's result. */
export function gateCacheKey(input: GateCacheKeyInput): string {
  const canonical = JSON.stringify({
    v: 1,
    tree: input.treeHash,
    guards: input.guards.map((g) => [g.name, g.argv]),
    stages: input.stages.map((s) => [s.name, s.argv]),
    runner: input.runnerIdentity,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

const entrySchema = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  storedAt: z.string(),
  /** The evidence run whose Gate produced this PASS. */
  runId: z.string().optional(),
  /** The stored GateReport (without its log text); kept opaque here, checked by its consumer. */
  report: z.record(z.string(), z.unknown()),
});
export type GateCacheEntry = z.infer<typeof entrySchema>;

/** A directory of `<key>.json` files (default `logs/autopilot/gate_cache/`). */
export class GateCache {
  /**
   * @param maxEntries Older entries beyond this many are deleted on each store: every cycle that
   *   passes adds one, and only recent trees are ever asked for again.
   */
  constructor(
    readonly dir: string,
    readonly maxEntries = 256,
  ) {}

  private file(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`invalid gate cache key: ${key}`);
    return path.join(this.dir, `${key}.json`);
  }

  /** The stored PASS for `key`, or undefined (absent, unreadable or not ours). */
  get(key: string): GateCacheEntry | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = entrySchema.safeParse(JSON.parse(text));
      return parsed.success && parsed.data.key === key ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async put(entry: GateCacheEntry): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    await atomicWrite(this.file(entry.key), JSON.stringify(entry, null, 2) + '\n');
    await this.prune();
  }

  private async prune(): Promise<void> {
    const names = (await fs.promises.readdir(this.dir)).filter((n) => /^[0-9a-f]{64}\.json$/.test(n));
    if (names.length <= this.maxEntries) return;
    const aged = await Promise.all(
      names.map(async (n) => ({ n, t: await fs.promises.stat(path.join(this.dir, n)).then((st) => st.mtimeMs, () => 0) })),
    );
    aged.sort((a, b) => b.t - a.t);
    for (const { n } of aged.slice(this.maxEntries)) await fs.promises.rm(path.join(this.dir, n), { force: true });
  }
}
