import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gateConfigErrors } from '../../../src/core/gate/command-check';
import { scaffoldFiles } from '../../../src/core/init/scaffold';
import { detectToolchain, type Detection } from '../../../src/core/init/toolchain';

/** A temp repository holding `files` (path → content). */
function repo(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-toolchain-'));
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), content);
  }
  return root;
}

const argv = (d: Detection) => Object.fromEntries(d.stages.map((s) => [s.name, s.command.join(' ')]));
const guards = (d: Detection) => d.guards.map((g) => `${g.name}=${g.command.join(' ')}`);

describe('factory init: toolchain detection on temp repositories', () => {
  const made: string[] = [];
  const at = (files: Record<string, string>) => {
    const r = repo(files);
    made.push(r);
    return r;
  };
  after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('npm: package.json scripts typecheck / test:unit / test / lint → doctor, fast, regression and a lint guard', () => {
    const d = detectToolchain(at({ 'package.json': JSON.stringify({ scripts: { typecheck: 'tsc', 'test:unit': 'mocha', test: 'mocha', lint: 'eslint .' } }), 'package-lock.json': '{}' }));
    assert.deepEqual(argv(d), { doctor: 'npm run typecheck', fast: 'npm run test:unit', regression: 'npm test' });
    assert.deepEqual(guards(d), ['lint=npm run lint']);
    assert.equal(d.toolchains[0].id, 'npm');
    assert.match(d.notes[0], /^Gate stages from npm \(package\.json scripts typecheck, test:unit, test, lint \(npm: package-lock\.json\)\)/);
  });

  it('pnpm and yarn are chosen by their lockfile', () => {
    const pkg = JSON.stringify({ scripts: { test: 'vitest' } });
    assert.deepEqual(argv(detectToolchain(at({ 'package.json': pkg, 'pnpm-lock.yaml': '' }))), { regression: 'pnpm test' });
    assert.deepEqual(argv(detectToolchain(at({ 'package.json': pkg, 'yarn.lock': '' }))), { regression: 'yarn test' });
  });

  it('npm\'s placeholder test script ("no test specified") is no test suite', () => {
    const d = detectToolchain(at({ 'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) }));
    assert.deepEqual(d.stages, []);
    assert.match(d.notes[0], /^no test toolchain detected/);
  });

  for (const [label, files] of [
    ['pytest.ini', { 'pytest.ini': '[pytest]\n' }],
    ['pyproject [tool.pytest.ini_options]', { 'pyproject.toml': '[project]\nname="x"\n\n[tool.pytest.ini_options]\naddopts="-q"\n' }],
    ['tests/ with test_*.py', { 'tests/unit/test_engine.py': 'def test_x():\n    pass\n' }],
  ] as const) {
    it(`pytest from ${label}: collect-only → -x → full`, () => {
      const d = detectToolchain(at(files));
      assert.deepEqual(argv(d), { doctor: 'python3 -m pytest --collect-only -q', fast: 'python3 -m pytest -q -x', regression: 'python3 -m pytest -q' });
      assert.equal(d.toolchains[0].id, 'pytest');
    });
  }

  it('a pyproject.toml without pytest and no tests is not pytest', () => {
    assert.deepEqual(detectToolchain(at({ 'pyproject.toml': '[project]\nname="x"\n', 'src/app.py': 'x=1\n' })).stages, []);
  });

  it('go.mod → go vet, go test -short, go test', () => {
    assert.deepEqual(argv(detectToolchain(at({ 'go.mod': 'module x\n\ngo 1.22\n' }))), { doctor: 'go vet ./...', fast: 'go test -short ./...', regression: 'go test ./...' });
  });

  it('Cargo.toml → cargo check, cargo test', () => {
    assert.deepEqual(argv(detectToolchain(at({ 'Cargo.toml': '[package]\nname="x"\n' }))), { doctor: 'cargo check --all-targets', regression: 'cargo test' });
  });

  it('Makefile targets check / test / lint; a variable assignment is no target', () => {
    const d = detectToolchain(at({ Makefile: 'CC := gcc\ncheck:\n\t./x\ntest: build\n\t./t\nlint:\n\ttrue\n' }));
    assert.deepEqual(argv(d), { doctor: 'make check', regression: 'make test' });
    assert.deepEqual(guards(d), ['lint=make lint']);
  });

  it('an existing justfile\'s test recipe (with parameters) is used', () => {
    const d = detectToolchain(at({ justfile: 'x := "1"\ntest *ARGS:\n    cargo test {{ARGS}}\n' }));
    assert.deepEqual(argv(d), { regression: 'just test' });
    const withDefault = detectToolchain(at({ justfile: 'set shell := ["bash", "-c"]\nalias t := test\ncheck FILTER="":\n    true\ntest:\n    true\n' }));
    assert.deepEqual(argv(withDefault), { doctor: 'just check', regression: 'just test' });
  });

  it('the spec guard scripts are configured only when present; other toolchains found are reported, not configured', () => {
    const d = detectToolchain(at({ 'pytest.ini': '[pytest]\n', 'scripts/check_no_duplicate_pnl.py': 'print(1)\n', Makefile: 'test:\n\tpytest\n' }));
    assert.deepEqual(guards(d), ['Welding=python3 scripts/check_no_duplicate_pnl.py']);
    assert.ok(d.notes.some((n) => /^also found make \(Makefile target\(s\) test\): not configured/.test(n)), d.notes.join('\n'));
    assert.ok(d.notes.some((n) => /scripts\/check_engine_centricity\.py not found: not configured/.test(n)), d.notes.join('\n'));
  });

  it('the scaffolded config of each detected repository passes the plan-time command check', () => {
    const roots = [
      at({ 'tests/test_a.py': 'def test_a(): pass\n', 'scripts/check_engine_centricity.py': 'print(1)\n' }),
      at({ 'package.json': JSON.stringify({ scripts: { test: 'node --test' } }) }),
      at({ 'go.mod': 'module x\n' }),
    ];
    for (const root of roots) {
      const detection = detectToolchain(root);
      const cfgFile = scaffoldFiles({ detection }).find((f) => f.path === '.factory/config.json')!;
      const cfg = JSON.parse(cfgFile.content);
      assert.deepEqual(cfg.gate.stages, detection.stages);
      assert.deepEqual(gateConfigErrors(root, { gate: cfg.gate, guards: cfg.guards }), [], root);
    }
  });
});
