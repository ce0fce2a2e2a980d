// One build for every bundle the product ships. `node esbuild.js [--watch] [--production]`.
// The CLI and worker bundles are built WITHOUT `vscode` as an external, so a stray `vscode`
// import anywhere under src/core, src/cli or src/worker fails the build (the layer rule).
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const withTests = process.argv.includes('--tests') || process.env.FACTORY_BUILD_TESTS === '1';

/** Optional native add-ons of ssh2/dockerode: never bundled, loaded lazily if present. */
const nativeExternals = ['cpu-features', '*.node'];

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  metafile: true,
  legalComments: 'none',
  // jsonc-parser's `main` is a UMD build whose internal requires esbuild cannot follow; its ESM
  // build bundles cleanly.
  alias: { 'jsonc-parser': './node_modules/jsonc-parser/lib/esm/main.js' },
};

/** @type {import('esbuild').BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', ...nativeExternals],
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: [...nativeExternals],
  },
  {
    ...common,
    // Runs inside the Worker container on the image's Node (Debian bookworm ships Node 18).
    entryPoints: { worker: 'src/worker/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: [...nativeExternals],
  },
  {
    ...common,
    entryPoints: { 'webview/main': 'src/webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

if (withTests && fs.existsSync('test/exthost/index.ts')) {
  targets.push({
    ...common,
    entryPoints: { 'exthost-tests': 'test/exthost/index.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', ...nativeExternals],
  });
}

function report(results) {
  const sizes = [];
  for (const r of results) {
    for (const [file, info] of Object.entries(r.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      sizes.push(`${path.relative('.', file)} ${(info.bytes / 1024).toFixed(1)} KiB`);
    }
  }
  console.log(`built: ${sizes.join(', ')}`);
}

async function main() {
  fs.mkdirSync('dist', { recursive: true });
  if (watch) {
    for (const t of targets) {
      const ctx = await esbuild.context(t);
      await ctx.watch();
    }
    console.log('watching…');
    return;
  }
  const results = await Promise.all(targets.map((t) => esbuild.build(t)));
  try { fs.chmodSync('dist/cli.js', 0o755); } catch { /* not built */ }
  report(results);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
