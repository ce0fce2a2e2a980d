#!/usr/bin/env node
// `npm run package`: production build, then `vsce package` → agentic-factory-<version>.vsix in the
// project root (or --out FILE). Prints the file, its size and its entries.
// Everything is bundled by esbuild, so vsce is told not to walk node_modules (--no-dependencies);
// the project has no public repository URL, so README links stay relative (--no-rewrite-relative-links).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = path.resolve(root, outArg > 0 ? process.argv[outArg + 1] : `${pkg.name}-${pkg.version}.vsix`);

function run(cmd, args) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`package-vsix: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  return Date.now() - started;
}

const buildMs = run(process.execPath, ['esbuild.js', '--production']);
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const packMs = run(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out]);
const bytes = fs.statSync(out).size;
console.log(`package-vsix: ${path.relative(process.cwd(), out) || out} ${(bytes / 1024).toFixed(1)} KiB (build ${buildMs} ms, vsce ${packMs} ms)`);
