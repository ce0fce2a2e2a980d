import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
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
        .filter((f) => /^cli(-chunk-[\w-]+|-markdown-it)?\.c?mjs$|^cli-markdown-it\.cjs$/.test(f) && fs.existsSync(path.join(DIST, `${f}.map`)))
        .flatMap((f) => [...packagesIn(f)]),
    );
    for (const p of ['zod', 'markdown-it', 'dockerode']) assert.ok(all.has(p), `${p} is bundled`);
  });

  it('`factory status` on plain documents with no config and no cycle yet loads neither markdown-it, zod nor simple-git', function () {
    // The files Node really loads, reported by a module hook, mapped to packages by their source maps.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'startup-'));
    try {
      fs.mkdirSync(path.join(dir, 'docs', 'v2', 'design'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'D_ROADMAP.md'), '# Roadmap\n\n> plain\n\n| Step | Goal | DONE/TOTAL | Status |\n|---|---|---|---|\n| D1-1 | g | 0/1 | OPEN |\n');
      fs.writeFileSync(path.join(dir, 'docs', 'v2', 'design', 'AC_LEDGER.md'), '| AC_ID | TITLE | STATUS |\n|---|---|---|\n| D1-1::AC-1 | t | OPEN |\n');
      const hooks = 'export async function load(url, ctx, next) { if (url.includes("/dist/")) process.stderr.write("LOADED " + url + "\\n"); return next(url, ctx); }';
      const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
      // ES modules through the hook; CommonJS (markdown-it's own file) through NODE_DEBUG=module.
      const status = () => {
        const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, path.join(DIST, 'cli.mjs'), 'status', '--json', '--root', dir], {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, NODE_DEBUG: 'module' },
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { next: { acId: string } }).next.acId, 'D1-1::AC-1');
        return { stderr: r.stderr, loaded: [...r.stderr.matchAll(/^LOADED .*\/dist\/([^/\s]+)$/gm)].map((m) => m[1]) };
      };
      const plain = status();
      assert.ok(plain.loaded.includes('cli.mjs') && plain.loaded.length > 3, `the hook saw the loads: ${plain.stderr}`);
      const pkgs = new Set(plain.loaded.filter((f) => fs.existsSync(path.join(DIST, `${f}.map`))).flatMap((f) => [...packagesIn(f)]));
      assert.deepEqual(['markdown-it', 'zod', 'entities', 'simple-git'].filter((p) => pkgs.has(p)), [], `loaded: ${plain.loaded.join(', ')}`);
      assert.ok(!plain.stderr.includes('cli-markdown-it.cjs'), 'markdown-it was required for plain documents');
      // An HTML block is beyond the line scanner: then, and only then, markdown-it is required.
      fs.appendFileSync(path.join(dir, 'D_ROADMAP.md'), '\n<div>\nhtml\n</div>\n');
      assert.ok(status().stderr.includes('cli-markdown-it.cjs'), 'markdown-it is required for a document that needs it');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
