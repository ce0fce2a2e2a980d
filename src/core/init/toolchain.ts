/**
 * What `factory init` finds in the repository it is run in: the test toolchain (npm/pnpm/yarn
 * scripts, pytest, go, cargo, make or just targets) and the spec's guard scripts, turned into Gate
 * stages (doctor → fast → regression where the toolchain has natural equivalents) and guards that
 * exist in THAT repository — never a command the project does not have.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DetectedCommand {
  name: string;
  command: string[];
  timeoutSeconds: number;
}

export interface DetectedGuard extends DetectedCommand {
  kind: 'preflight' | 'docops';
}

/** One toolchain found, with why (the file that shows it) and the stages/guards it offers. */
export interface Toolchain {
  id: 'npm' | 'pnpm' | 'yarn' | 'pytest' | 'go' | 'cargo' | 'make' | 'just';
  why: string;
  stages: DetectedCommand[];
  guards: DetectedGuard[];
}

export interface Detection {
  /** Every toolchain found, in priority order; the first one's stages are configured. */
  toolchains: Toolchain[];
  stages: DetectedCommand[];
  guards: DetectedGuard[];
  /** What was detected and why, in words (init prints these). */
  notes: string[];
}

/** The spec's guard scripts (§8-1): configured only when the repository has them. */
const SPEC_GUARDS: { name: string; file: string; kind: 'preflight' | 'docops'; args?: string[] }[] = [
  { name: 'Welding', file: 'scripts/check_no_duplicate_pnl.py', kind: 'preflight' },
  { name: 'Engine-Centric', file: 'scripts/check_engine_centricity.py', kind: 'preflight' },
];

const read = (root: string, f: string): string | null => {
  try {
    return fs.readFileSync(path.join(root, f), 'utf8');
  } catch {
    return null;
  }
};
const isFile = (root: string, f: string): boolean => {
  try {
    return fs.statSync(path.join(root, f)).isFile();
  } catch {
    return false;
  }
};

const stage = (name: string, command: string[], timeoutSeconds: number): DetectedCommand => ({ name, command, timeoutSeconds });

/** npm's placeholder test script (`npm init`): it always fails, so it is no test suite. */
const NPM_PLACEHOLDER = /no test specified/;

function detectNode(root: string): Toolchain | null {
  const text = read(root, 'package.json');
  if (text === null) return null;
  let scripts: Record<string, unknown> = {};
  try {
    const pkg = JSON.parse(text) as { scripts?: Record<string, unknown> };
    scripts = pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {};
  } catch {
    return null;
  }
  const has = (s: string) => typeof scripts[s] === 'string' && !(s === 'test' && NPM_PLACEHOLDER.test(scripts[s]));
  const pm = isFile(root, 'pnpm-lock.yaml') ? 'pnpm' : isFile(root, 'yarn.lock') ? 'yarn' : 'npm';
  const lock = pm === 'pnpm' ? 'pnpm-lock.yaml' : pm === 'yarn' ? 'yarn.lock' : isFile(root, 'package-lock.json') ? 'package-lock.json' : 'no lockfile';
  const run = (s: string) => (s === 'test' ? [pm, 'test'] : [pm, 'run', s]);
  const stages: DetectedCommand[] = [];
  const doctor = ['typecheck', 'type-check', 'check', 'build'].find(has);
  if (doctor) stages.push(stage('doctor', run(doctor), 300));
  const fast = ['test:unit', 'test:fast', 'test-unit'].find(has);
  if (fast) stages.push(stage('fast', run(fast), 600));
  if (has('test')) stages.push(stage('regression', run('test'), 1200));
  const guards: DetectedGuard[] = has('lint') ? [{ name: 'lint', command: run('lint'), timeoutSeconds: 300, kind: 'preflight' }] : [];
  const used = [doctor, fast, has('test') ? 'test' : undefined, has('lint') ? 'lint' : undefined].filter((s): s is string => !!s);
  if (stages.length === 0 && guards.length === 0) return null;
  return { id: pm, why: `package.json scripts ${used.join(', ')} (${pm}: ${lock})`, stages, guards };
}

/** Whether the repository has pytest tests, and the file that says so. */
function pytestEvidence(root: string): string | null {
  if (isFile(root, 'pytest.ini')) return 'pytest.ini';
  if (/^\[tool\.pytest/m.test(read(root, 'pyproject.toml') ?? '')) return 'pyproject.toml [tool.pytest…]';
  if (/^\[tool:pytest\]/m.test(read(root, 'setup.cfg') ?? '')) return 'setup.cfg [tool:pytest]';
  if (/^\[pytest\]/m.test(read(root, 'tox.ini') ?? '')) return 'tox.ini [pytest]';
  for (const dir of ['tests', 'test']) {
    const found = findTestPy(path.join(root, dir), 2);
    if (found) return `${dir}/ with ${path.relative(root, found).split(path.sep).join('/')}`;
  }
  return null;
}

function findTestPy(dir: string, depth: number): string | null {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return null;
  }
  const file = entries.find((e) => e.isFile() && /^(test_.*|.*_test)\.py$/.test(e.name));
  if (file) return path.join(dir, file.name);
  if (depth <= 0) return null;
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === '__pycache__') continue;
    const found = findTestPy(path.join(dir, e.name), depth - 1);
    if (found) return found;
  }
  return null;
}

function detectPytest(root: string): Toolchain | null {
  const why = pytestEvidence(root);
  if (!why) return null;
  return {
    id: 'pytest',
    why,
    stages: [
      stage('doctor', ['python3', '-m', 'pytest', '--collect-only', '-q'], 300),
      stage('fast', ['python3', '-m', 'pytest', '-q', '-x'], 600),
      stage('regression', ['python3', '-m', 'pytest', '-q'], 1200),
    ],
    guards: [],
  };
}

function detectGo(root: string): Toolchain | null {
  if (!isFile(root, 'go.mod')) return null;
  return {
    id: 'go',
    why: 'go.mod',
    stages: [stage('doctor', ['go', 'vet', './...'], 300), stage('fast', ['go', 'test', '-short', './...'], 600), stage('regression', ['go', 'test', './...'], 1200)],
    guards: [],
  };
}

function detectCargo(root: string): Toolchain | null {
  if (!isFile(root, 'Cargo.toml')) return null;
  return { id: 'cargo', why: 'Cargo.toml', stages: [stage('doctor', ['cargo', 'check', '--all-targets'], 600), stage('regression', ['cargo', 'test'], 1200)], guards: [] };
}

/** Targets named in a Makefile (`name:` at the start of a line) or a justfile (`name …:`). */
function targets(text: string, kind: 'make' | 'just'): Set<string> {
  const re = kind === 'make' ? /^([A-Za-z0-9_.-]+)\s*:(?!=)/gm : /^@?([A-Za-z0-9_-]+)(?:\s+[^\n:]*)?:(?!=)/gm;
  return new Set([...text.matchAll(re)].map((m) => m[1]));
}

function detectTargets(root: string, kind: 'make' | 'just'): Toolchain | null {
  const files = kind === 'make' ? ['GNUmakefile', 'makefile', 'Makefile'] : ['justfile', 'Justfile', '.justfile'];
  const file = files.find((f) => isFile(root, f));
  if (!file) return null;
  const names = targets(read(root, file) ?? '', kind);
  const stages: DetectedCommand[] = [];
  if (names.has('check')) stages.push(stage('doctor', [kind, 'check'], 300));
  if (names.has('test')) stages.push(stage('regression', [kind, 'test'], 1200));
  const guards: DetectedGuard[] = names.has('lint') ? [{ name: 'lint', command: [kind, 'lint'], timeoutSeconds: 300, kind: 'preflight' }] : [];
  const used = ['check', 'test', 'lint'].filter((t) => names.has(t));
  if (used.length === 0) return null;
  return { id: kind, why: `${file} target(s) ${used.join(', ')}`, stages, guards };
}

/**
 * Detect the repository's toolchains. The first one found (package.json scripts, pytest, go,
 * cargo, make, just — in that order) gives the Gate stages and its guards; the spec's guard
 * scripts are added when they exist. Nothing found: no stage at all, said plainly (the plan-time
 * check then refuses to run a Gate that would verify nothing).
 */
export function detectToolchain(root: string): Detection {
  const found = [detectNode(root), detectPytest(root), detectGo(root), detectCargo(root), detectTargets(root, 'make'), detectTargets(root, 'just')].filter((t): t is Toolchain => t !== null);
  const primary = found[0];
  const specGuards: DetectedGuard[] = SPEC_GUARDS.filter((g) => isFile(root, g.file)).map((g) => ({ name: g.name, command: ['python3', g.file, ...(g.args ?? [])], timeoutSeconds: 120, kind: g.kind }));
  const notes: string[] = [];
  if (!primary) {
    notes.push('no test toolchain detected (package.json test scripts, pytest, go.mod, Cargo.toml, make/just targets test/lint/check): gate.stages is empty; add your test commands before `factory run`');
  } else {
    notes.push(`Gate stages from ${primary.id} (${primary.why}): ${primary.stages.map((s) => `${s.name} = ${s.command.join(' ')}`).join('; ') || 'none'}`);
    for (const g of primary.guards) notes.push(`guard ${g.name} = ${g.command.join(' ')} (${primary.id})`);
    for (const other of found.slice(1)) notes.push(`also found ${other.id} (${other.why}): not configured; add its commands to gate.stages by hand if the Gate should run them`);
  }
  for (const g of specGuards) notes.push(`guard ${g.name} = ${g.command.join(' ')} (the script exists)`);
  const missingSpec = SPEC_GUARDS.filter((g) => !isFile(root, g.file)).map((g) => g.file);
  if (missingSpec.length) notes.push(`the spec's guard script(s) ${missingSpec.join(', ')} not found: not configured`);
  return { toolchains: found, stages: primary?.stages ?? [], guards: [...(primary?.guards ?? []), ...specGuards], notes };
}
