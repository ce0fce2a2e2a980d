import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../../src/core/config/load';
import { initWorkspace, prettyJson, scaffoldFiles } from '../../../src/core/init/scaffold';
import { FactoryError } from '../../../src/core/util/errors';
import { buildCli, REPO_ROOT, runCli, tempDirs } from './cli-process';

const SCAFFOLD = scaffoldFiles().map((f) => f.path);
/** What init writes into a folder without a justfile: the scaffold, the spec's recipes and the .gitignore of the Controller's records. */
const WRITTEN = [...SCAFFOLD, 'justfile', '.gitignore'];

/** Every file under `dir`, repo-relative, sorted. */
function listFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe('factory init (real process: node dist/cli.js)', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('scaffolds config + SSOT documents into an empty folder, and `factory status` on it exits 0 with 0 diagnostics', () => {
    const root = tmp.make('init-empty');
    const r = runCli(['init', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(listFiles(root), [...WRITTEN].sort(), 'exactly the scaffold and the justfile, no temp files left behind');
    assert.match(r.stdout, /^ {2}no test toolchain detected .*gate\.stages is empty/m);

    const status = runCli(['status', '--root', root, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.deepEqual(s.diagnostics, []);
    assert.equal(s.config.file, '.factory/config.json');
    assert.equal(s.acs.total, 1);
    assert.equal(s.tickets.total, 1);
    assert.equal(s.next.acId, 'D100::AC-1');
  });

  it('writes a config that validates, points $schema at a schema copy identical to schemas/config.schema.json', async () => {
    const root = tmp.make('init-config');
    assert.equal(runCli(['init', '--root', root, '--json']).code, 0);
    const loaded = await loadConfig(root);
    assert.deepEqual(loaded.diagnostics, []);
    assert.deepEqual(loaded.config.guards, [], 'no guard scripts are referenced that the project does not have');
    assert.deepEqual(loaded.config.gate.stages, [], 'no test command is assumed in a folder without a toolchain');
    const cfg = JSON.parse(fs.readFileSync(path.join(root, '.factory/config.json'), 'utf8'));
    const schemaFile = path.join(root, '.factory', cfg.$schema);
    assert.equal(
      fs.readFileSync(schemaFile, 'utf8'),
      fs.readFileSync(path.join(REPO_ROOT, 'schemas/config.schema.json'), 'utf8'),
    );
  });

  it('adds the SSOT to a folder that has code but no SSOT, leaving the code alone', () => {
    const root = tmp.make('init-code');
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src/app.py'), 'print("hi")\n');
    assert.equal(runCli(['init', '--root', root]).code, 0);
    assert.equal(fs.readFileSync(path.join(root, 'src/app.py'), 'utf8'), 'print("hi")\n');
    assert.ok(fs.existsSync(path.join(root, 'D_ROADMAP.md')));
  });

  it('refuses to overwrite, names the existing files and writes nothing at all', () => {
    const root = tmp.make('init-exists');
    fs.writeFileSync(path.join(root, 'D_ROADMAP.md'), '# mine\n');
    fs.mkdirSync(path.join(root, 'docs/v2'), { recursive: true });
    fs.writeFileSync(path.join(root, 'docs/v2/SSOT_RULES.md'), '# my rules\n');
    const r = runCli(['init', '--root', root]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /refusing to overwrite existing file\(s\): D_ROADMAP\.md, docs\/v2\/SSOT_RULES\.md\n$/);
    assert.equal(fs.readFileSync(path.join(root, 'D_ROADMAP.md'), 'utf8'), '# mine\n');
    assert.deepEqual(listFiles(root), ['D_ROADMAP.md', 'docs/v2/SSOT_RULES.md'], 'nothing else was written');
  });

  it('a second init on the same folder refuses and names all five files', () => {
    const root = tmp.make('init-twice');
    assert.equal(runCli(['init', '--root', root]).code, 0);
    const before = fs.readFileSync(path.join(root, 'D_ROADMAP.md'), 'utf8');
    const r = runCli(['init', '--root', root]);
    assert.equal(r.code, 2);
    for (const f of SCAFFOLD) assert.ok(r.stderr.includes(f), `${f} named in: ${r.stderr}`);
    assert.equal(fs.readFileSync(path.join(root, 'D_ROADMAP.md'), 'utf8'), before);
  });

  it('treats a dangling symlink at a target path as existing (never writes through it)', async () => {
    const root = tmp.make('init-symlink');
    const elsewhere = path.join(tmp.make('init-symlink-target'), 'victim.md');
    fs.symlinkSync(elsewhere, path.join(root, 'D_ROADMAP.md'));
    await assert.rejects(initWorkspace(root), (e: unknown) => e instanceof FactoryError && e.exitCode === 2 && /D_ROADMAP\.md/.test(e.message));
    assert.equal(fs.existsSync(elsewhere), false);
  });

  it('scaffold documents carry the project name and the given date', () => {
    const files = scaffoldFiles({ projectName: 'acme', now: new Date('2030-02-03T04:05:06.789Z') });
    const roadmap = files.find((f) => f.path === 'D_ROADMAP.md')!.content;
    assert.match(roadmap, /^# D_ROADMAP\.md — acme$/m);
    assert.match(roadmap, /\*\*Date:\*\* 2030-02-03/);
    const ledger = files.find((f) => f.path === 'docs/v2/design/AC_LEDGER.md')!.content;
    assert.match(ledger, /^generated_at: 2030-02-03T04:05:06Z$/m);
  });
});

describe('prettyJson (the scaffolded config people edit)', () => {
  it('round-trips to the same value and keeps short arrays of plain values on one line', () => {
    const value = { a: ['python3', '-m', 'pytest'], b: { c: [] as string[], d: {}, e: [{ f: 1 }], g: null, h: 'x"y' }, long: Array.from({ length: 40 }, (_, i) => `item-${i}`) };
    const text = prettyJson(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.match(text, /^ {2}"a": \["python3", "-m", "pytest"\],$/m);
    assert.ok(text.split('\n').every((l) => l.length <= 110), 'long arrays are broken into lines');
    assert.match(text, /"e": \[\n {6}\{\n {8}"f": 1\n {6}\}\n {4}\]/);
  });
});

describe('factory init fits the repository (real process)', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  before(() => buildCli());
  after(() => tmp.cleanup());

  it('a pytest repository with the spec guard scripts: pytest stages and both guards, reported with why (--json too)', async () => {
    const root = tmp.make('init-pytest');
    fs.mkdirSync(path.join(root, 'tests'));
    fs.writeFileSync(path.join(root, 'tests/test_a.py'), 'def test_a():\n    pass\n');
    fs.mkdirSync(path.join(root, 'scripts'));
    for (const s of ['check_no_duplicate_pnl.py', 'check_engine_centricity.py']) fs.writeFileSync(path.join(root, 'scripts', s), 'print(1)\n');
    const r = runCli(['init', '--root', root, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.detected.toolchains, [{ id: 'pytest', why: 'tests/ with tests/test_a.py' }]);
    assert.equal(out.justfileKept, null);
    assert.ok(out.written.includes('justfile'));
    const { config } = await loadConfig(root);
    assert.deepEqual(config.gate.stages.map((s) => s.command.join(' ')), ['python3 -m pytest --collect-only -q', 'python3 -m pytest -q -x', 'python3 -m pytest -q']);
    assert.deepEqual(config.guards.map((g) => g.command.join(' ')), ['python3 scripts/check_no_duplicate_pnl.py', 'python3 scripts/check_engine_centricity.py']);
  });

  it('an existing Justfile is kept byte for byte, its test recipe becomes the regression stage, and init says so', async () => {
    const root = tmp.make('init-justfile');
    fs.writeFileSync(path.join(root, 'Justfile'), 'test:\n    echo mine\n');
    const r = runCli(['init', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(root, 'Justfile'), 'utf8'), 'test:\n    echo mine\n');
    assert.deepEqual(fs.readdirSync(root).filter((n) => /^\.?justfile$/i.test(n)), ['Justfile'], 'no second justfile');
    assert.match(r.stdout, /^Justfile exists: kept as it is \(init never overwrites a justfile\)/m);
    assert.match(r.stdout, /^ {2}Gate stages from just \(Justfile target\(s\) test\): regression = just test$/m);
    const { config } = await loadConfig(root);
    assert.deepEqual(config.gate.stages.map((s) => s.command), [['just', 'test']]);
  });
});
