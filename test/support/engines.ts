import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Tests that need a real engine (Docker, Chromium, code-server) call these from `before`.
 * Locally a missing engine skips the suite with a clear reason; in CI (`FACTORY_REQUIRE_ENGINES=1`,
 * set by .ci/run) a missing engine FAILS, never a silent skip.
 */
export const REQUIRE_ENGINES = process.env.FACTORY_REQUIRE_ENGINES === '1' || process.env.CI === 'true';

function missing(ctx: Mocha.Context, what: string): never {
  const message = `${what} is not available`;
  if (REQUIRE_ENGINES) throw new Error(`${message} (required in CI: FACTORY_REQUIRE_ENGINES=1)`);
  console.warn(`  ! skipping: ${message}`);
  ctx.skip();
}

/** Tests that chown files to another user need root (here and in CI they run as root). */
export function requireRoot(ctx: Mocha.Context): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) missing(ctx, 'root (to chown a repository to another user)');
}

let dockerOk: boolean | undefined;
/** True when `docker info` answers. */
export function dockerAvailable(): boolean {
  if (dockerOk === undefined) {
    try {
      execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
      dockerOk = true;
    } catch {
      dockerOk = false;
    }
  }
  return dockerOk;
}

export function requireDocker(ctx: Mocha.Context): void {
  if (!dockerAvailable()) missing(ctx, 'the Docker engine');
}

export function requireChromium(ctx: Mocha.Context): string {
  const bin = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(bin)) missing(ctx, `Chromium (${bin})`);
  return bin;
}

/** The shared/ folder next to the project root (the corpus lives there). */
export const SHARED_DIR = path.resolve(__dirname, '..', '..', '..', 'shared');
export const CORPUS_DIR = path.join(SHARED_DIR, 'corpus', 'arbitrage-bot');

export function requireCorpus(ctx: Mocha.Context): string {
  if (!fs.existsSync(CORPUS_DIR)) missing(ctx, `the real-world corpus (${CORPUS_DIR}; outside this workplace ../shared is absent)`);
  return CORPUS_DIR;
}
