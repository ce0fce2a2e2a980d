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

/**
 * The CLI requires markdown-it only for a document the SSOT line scanner cannot read
 * (src/core/ssot/markdown.ts `require('./markdown-it-blocks')`). In the split ES module bundle that
 * require would still put markdown-it (240 KB) into a chunk every `factory status` compiles; so the
 * CLI build leaves it external and markdown-it-blocks is its own CommonJS file next to the chunks,
 * read from disk the first time it is needed.
 */
const CLI_MARKDOWN_IT = 'cli-markdown-it.cjs';
const lazyMarkdownIt = {
  name: 'lazy-markdown-it',
  setup(build) {
    build.onResolve({ filter: /^\.\/markdown-it-blocks$/ }, (args) =>
      args.kind === 'require-call' ? { path: `./${CLI_MARKDOWN_IT}`, external: true } : undefined,
    );
  },
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
    // ES modules with code splitting: each command's dependencies (zod, markdown-it, dockerode …)
    // are separate chunks loaded only when that command runs. As one CJS file every start-up
    // parsed all of them (3.6 MB; `factory --version` cost ~60 ms over bare node). Chunks sit next
    // to the entry so __dirname means what it meant in the single bundle. dist/cli.js is a CJS shim
    // (writeCliShim) so `node dist/cli.js` and the npm bin keep working.
    entryPoints: { cli: 'src/cli/bin.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'cli-chunk-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: {
      js: [
        '#!/usr/bin/env node',
        // Bundled CommonJS dependencies call require() and read __dirname; give them both.
        "import { createRequire as __factoryRequire } from 'node:module';",
        "import { fileURLToPath as __factoryPath } from 'node:url';",
        'const require = __factoryRequire(import.meta.url);',
        'const __filename = __factoryPath(import.meta.url);',
        "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
      ].join('\n'),
    },
    external: [...nativeExternals],
    plugins: [lazyMarkdownIt],
  },
  {
    ...common,
    entryPoints: { [CLI_MARKDOWN_IT.replace(/\.cjs$/, '')]: 'src/core/ssot/markdown-it-blocks.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    // Runs inside the Worker container on the image's Node: ours ship Node 22 (docker/node.env), and
    // a user's own image may still have Debian's 18, so the bundle stays at that level.
    entryPoints: { worker: 'src/worker/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    // Always minified: every Worker container pays its load time (≈ 30 ms less on 1 CPU).
    minify: true,
    external: [...nativeExternals],
  },
  {
    ...common,
    // The swarm relay service and the swarm task's boot script (issue 19, src/relay): node built-ins
    // only, on the worker image's Node (18 or later). The boot script runs as `node -e <file>`, so it
    // stays minified, without a source map, far below Linux's 128 KiB cap on one argument.
    entryPoints: { relay: 'src/relay/main.ts', 'swarm-boot': 'src/relay/boot.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    minify: true,
    sourcemap: false,
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

/** The codicon font and its stylesheet ship next to the webview bundle (localResourceRoots = dist/webview). */
function copyWebviewAssets() {
  fs.mkdirSync('dist/webview', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) {
    fs.copyFileSync(path.join('node_modules', '@vscode', 'codicons', 'dist', f), path.join('dist', 'webview', f));
  }
}

/**
 * dist/cli.js: the npm bin and `node dist/cli.js` entry, loading the ES module bundle. Also drops
 * chunks of earlier builds so dist/ does not grow with every build.
 */
function writeCliShim(results) {
  const cli = results.find((r) => r.metafile && Object.keys(r.metafile.outputs).some((f) => path.basename(f) === 'cli.mjs'));
  if (!cli) return;
  const live = new Set(Object.keys(cli.metafile.outputs).map((f) => path.basename(f)));
  // Only chunks older than an hour: a CLI process started before this build may still import
  // its own (lazily loaded) chunks.
  const staleBefore = Date.now() - 3600_000;
  for (const f of fs.readdirSync('dist')) {
    if (!/^cli-chunk-.*\.mjs(\.map)?$/.test(f) || live.has(f)) continue;
    const file = path.join('dist', f);
    if (fs.statSync(file).mtimeMs < staleBefore) fs.rmSync(file, { force: true });
  }
  fs.rmSync('dist/cli.js.map', { force: true }); // left over from the single-file CJS bundle
  fs.writeFileSync(
    'dist/cli.js',
    "#!/usr/bin/env node\n'use strict';\n// The CLI is an ES module bundle split per command (dist/cli.mjs); see esbuild.js.\n" +
      "import('./cli.mjs').catch((err) => {\n  process.stderr.write(`factory: ${err && err.stack ? err.stack : err}\\n`);\n  process.exit(1);\n});\n",
  );
  fs.chmodSync('dist/cli.js', 0o755);
  fs.chmodSync('dist/cli.mjs', 0o755);
}

function report(results) {
  const sizes = [];
  let chunks = 0;
  let chunkBytes = 0;
  for (const r of results) {
    for (const [file, info] of Object.entries(r.metafile.outputs)) {
      if (file.endsWith('.map')) continue;
      if (path.basename(file).startsWith('cli-chunk-')) {
        chunks++;
        chunkBytes += info.bytes;
        continue;
      }
      sizes.push(`${path.relative('.', file)} ${(info.bytes / 1024).toFixed(1)} KiB`);
    }
  }
  if (chunks > 0) sizes.push(`${chunks} CLI chunks ${(chunkBytes / 1024).toFixed(1)} KiB`);
  console.log(`built: ${sizes.join(', ')}`);
}

async function main() {
  fs.mkdirSync('dist', { recursive: true });
  copyWebviewAssets();
  if (watch) {
    for (const t of targets) {
      const ctx = await esbuild.context(t);
      await ctx.watch();
    }
    console.log('watching…');
    return;
  }
  const results = await Promise.all(targets.map((t) => esbuild.build(t)));
  writeCliShim(results);
  report(results);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
