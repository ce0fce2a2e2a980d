/**
 * `npm ci` (CI's install) refuses a lock file that lacks a node for any dependency edge, optional
 * platform packages included: a lock written where the registry serves only some platforms of a
 * package (rust-just ships one binary package per platform) can break CI with nothing wrong here.
 * This checks the edges the same way, without the network.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface LockNode {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Node resolution inside the lock: the nearest node_modules/<name> from `from` upwards. */
function resolveIn(packages: Record<string, LockNode>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return null;
    const i = dir.lastIndexOf('node_modules/');
    dir = i <= 0 ? '' : dir.slice(0, i - 1);
  }
}

/** Every dependency edge of `lock` that has no node, as "from → name". */
export function missingLockNodes(lock: { packages: Record<string, LockNode> }): string[] {
  const missing: string[] = [];
  for (const [from, node] of Object.entries(lock.packages)) {
    if (from.includes('node_modules/') === false && from !== '') continue; // workspace links only
    const edges = { ...node.dependencies, ...node.optionalDependencies };
    for (const name of Object.keys(edges)) if (!resolveIn(lock.packages, from, name)) missing.push(`${from || '(root)'} → ${name}`);
  }
  return missing;
}

describe('package-lock.json', () => {
  it('has a node for every dependency edge, every platform package of an optional dependency included', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockNode> };
    assert.deepEqual(missingLockNodes(lock), []);
  });

  it('names an edge whose optional platform package is missing (as npm ci would refuse it)', () => {
    const lock = {
      packages: {
        '': { dependencies: { tool: '^1.0.0' } },
        'node_modules/tool': { version: '1.0.0', optionalDependencies: { 'tool-linux-x64': '1.0.0', 'tool-darwin-arm64': '1.0.0' } },
        'node_modules/tool-linux-x64': { version: '1.0.0' },
      },
    };
    assert.deepEqual(missingLockNodes(lock), ['node_modules/tool → tool-darwin-arm64']);
  });

  it('resolves a nested dependency from the nearest node_modules upwards', () => {
    const lock = {
      packages: {
        '': { dependencies: { a: '1' } },
        'node_modules/a': { dependencies: { b: '1', c: '1' } },
        'node_modules/a/node_modules/b': { dependencies: { c: '1' } },
        'node_modules/c': {},
      },
    };
    assert.deepEqual(missingLockNodes(lock), []);
  });
});
