import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildCli, REPO_ROOT } from './cli-process';

const DIST = path.join(REPO_ROOT, 'dist');
/** Dependencies too heavy to load on every start-up: only the commands that use them may. */
const HEAVY = ['zod', 'markdown-it', 'dockerode', 'docker-modem', 'ssh2', '@grpc/grpc-js', 'protobufjs', 'simple-git', 'jsonc-parser', 'proper-lockfile'];

/** The files Node loads before any command runs: dist/cli.mjs and its static imports, transitively. */
function startupFiles(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(path.join(DIST, file), 'utf8');
    // Static `import … from "./x.mjs"` / `import "./x.mjs"` only; `import("./x.mjs")` is lazy.
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;(]*?["']\.\/([\w.-]+\.mjs)["']/gm)) visit(m[1]);
  };
  visit('cli.mjs');
  return [...seen];
}

/** The npm packages bundled into a file, from its source map. */
function packagesIn(file: string): Set<string> {
  const map = JSON.parse(fs.readFileSync(path.join(DIST, `${file}.map`), 'utf8')) as { sources: string[] };
  const pkgs = new Set<string>();
  for (const s of map.sources) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s);
    if (m) pkgs.add(m[1]);
  }
  return pkgs;
}

describe('CLI start-up stays lean (what every `factory` invocation loads)', function () {
  this.timeout(60_000);
  before(() => buildCli());

  it('heavy dependencies are not in dist/cli.mjs or its static imports; commands import them lazily', () => {
    const files = startupFiles();
    const loaded = new Set(files.flatMap((f) => [...packagesIn(f)]));
    assert.ok(loaded.has('commander'), `the check sees bundled packages (start-up files: ${files.join(', ')})`);
    const heavy = HEAVY.filter((p) => loaded.has(p));
    assert.deepEqual(heavy, [], `loaded at start-up by ${files.join(', ')}: move these imports inside the command action (await import(…))`);
  });

  it('the heavy dependencies are still bundled, in chunks loaded on demand', () => {
    const all = new Set(
      fs
        .readdirSync(DIST)
        .filter((f) => /^cli(-chunk-[\w-]+)?\.mjs$/.test(f) && fs.existsSync(path.join(DIST, `${f}.map`)))
        .flatMap((f) => [...packagesIn(f)]),
    );
    for (const p of ['zod', 'markdown-it', 'dockerode']) assert.ok(all.has(p), `${p} is bundled`);
  });
});
