import * as path from 'node:path';
import type { BundleManifest } from '../core/contracts/relay-protocol';

// The bundle's manifest.json, checked before the boot script acts on it (defence in depth: the
// Controller wrote it, but the boot script must never extract or run outside what it says).

/** The boot script's own failure (exit BOOT_EXIT_CODE). */
export class BootError extends Error {}

const MAX_MOUNTS = 64;

/** An absolute path without `.`/`..` segments, empty segments or control characters. */
export function checkContainerPath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) throw new BootError(`${what} must be a non-empty path`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(p)) throw new BootError(`${what} holds a control character`);
  if (!p.startsWith('/')) throw new BootError(`${what} ${JSON.stringify(p)} is not absolute`);
  const segments = p.slice(1).split('/');
  if (p !== '/' && segments.some((s) => s === '' || s === '.' || s === '..')) throw new BootError(`${what} ${JSON.stringify(p)} has an empty, . or .. segment`);
  return p;
}

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && !s.includes('\0'))) throw new BootError(`${what} must be a list of strings`);
  return v as string[];
}

function environment(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BootError('manifest env must be an object');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof val !== 'string' || val.includes('\0')) throw new BootError(`manifest env ${JSON.stringify(k)} is not NAME=string`);
    out[k] = val;
  }
  return out;
}

function mounts(v: unknown): BundleManifest['mounts'] {
  if (!Array.isArray(v) || v.length > MAX_MOUNTS) throw new BootError(`manifest mounts must be a list of at most ${MAX_MOUNTS}`);
  const seen = new Set<string>();
  return v.map((m: unknown, i) => {
    if (typeof m !== 'object' || m === null) throw new BootError(`manifest mount ${i} is not an object`);
    const { dir, containerPath, readOnly } = m as Record<string, unknown>;
    if (typeof dir !== 'string' || !/^m\d{1,4}$/.test(dir) || seen.has(dir)) throw new BootError(`manifest mount ${i}: dir must be a unique m<k>`);
    seen.add(dir);
    if (typeof readOnly !== 'boolean') throw new BootError(`manifest mount ${i}: readOnly must be a boolean`);
    const cp = checkContainerPath(containerPath, `manifest mount ${dir}`);
    if (cp === '/') throw new BootError(`manifest mount ${dir} cannot be /`);
    return { dir, containerPath: cp, readOnly };
  });
}

/** The manifest, validated; throws BootError. */
export function parseManifest(raw: Buffer): BundleManifest {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BootError('manifest.json is not JSON');
  }
  if (typeof v !== 'object' || v === null) throw new BootError('manifest.json is not an object');
  const m = v as Record<string, unknown>;
  if (m.schema_version !== 1) throw new BootError(`manifest schema_version ${String(m.schema_version)} is not 1`);
  const cmd = strings(m.cmd, 'manifest cmd');
  if (cmd.length === 0 || cmd[0] === '') throw new BootError('manifest cmd is empty');
  const out: BundleManifest = {
    schema_version: 1,
    mounts: mounts(m.mounts),
    cmd,
    env: environment(m.env ?? {}),
    workdir: checkContainerPath(m.workdir, 'manifest workdir'),
  };
  if (m.gatewaySocket !== undefined) out.gatewaySocket = checkContainerPath(m.gatewaySocket, 'manifest gatewaySocket');
  return out;
}

/** Where a container path lives on this machine: under `root` (BOOT_ROOT_ENV, tests only) or as is. */
export function hostPath(root: string | undefined, containerPath: string): string {
  return root ? path.join(root, containerPath) : containerPath;
}
