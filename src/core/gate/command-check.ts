/**
 * Does every configured Gate stage and guard name a program or script that exists in the
 * repository? A missing one is a configuration error found at plan time (`factory dry` shows it,
 * `factory run` refuses before any Worker starts), never a Gate FAIL after a paid Worker run.
 *
 * Only paths in the repository are checked. A program on PATH (`python3`, `npm`, `go`) lives in
 * the worker image and cannot be checked from the host, so it is never guessed at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { FactoryError } from '../util/errors';

/** One configured command whose program or script is missing: the config key and the reason. */
export interface CommandProblem {
  /** The config key, e.g. `gate.stages[1].command`. */
  key: string;
  /** The missing path, repo-relative as written in the config. */
  file: string;
  /** `<key>: <file> does not exist in the repository` (or lies outside it). */
  message: string;
}

/** Interpreters whose first non-option argument is a script file. */
const INTERPRETERS = /^(python(\d+(\.\d+)?)?|node|bash|sh|zsh|dash|ruby|perl|php|tsx|ts-node|pwsh)$/;
/** Options after which the interpreter runs no script file (`-m module`, `-c code`, `-e code`, `run`…). */
const NO_SCRIPT_OPTIONS = new Set(['-m', '-c', '-e', '--eval', '-p', '--print', '-r', '-R', '--command']);
/** Options that take a value (the value is not the script). */
const OPTIONS_WITH_VALUE = new Set(['-W', '-X', '--import', '--require', '--loader', '--experimental-loader', '-I', '-o', '-O']);

/**
 * The repo-relative file a command depends on, or null when nothing checkable is named:
 * argv[0] when it is a relative path (contains '/'), or the script an interpreter is given.
 */
export function commandFile(argv: readonly string[]): string | null {
  const [program, ...args] = argv;
  if (program === undefined) return null;
  if (program.includes('/') || program.includes('\\')) return path.isAbsolute(program) ? null : program;
  if (!INTERPRETERS.test(program)) return null;
  const shell = /^(bash|sh|zsh|dash)$/.test(program);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return args[i + 1] !== undefined && !path.isAbsolute(args[i + 1]) ? args[i + 1] : null;
    if (NO_SCRIPT_OPTIONS.has(a) || a.startsWith('--eval=') || (shell && /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a))) return null;
    if (OPTIONS_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return path.isAbsolute(a) ? null : a;
  }
  return null;
}

/** Whether `file` (repo-relative) exists under `root` and stays inside it. */
function inRepo(root: string, file: string): 'ok' | 'missing' | 'outside' {
  const abs = path.resolve(root, file);
  const rel = path.relative(path.resolve(root), abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return 'outside';
  return fs.existsSync(abs) ? 'ok' : 'missing';
}

/** Every configured stage and guard whose program or script is missing from the repository. */
export function missingCommands(root: string, config: Pick<FactoryConfig, 'gate' | 'guards'>): CommandProblem[] {
  const entries: { key: string; command: readonly string[] }[] = [
    ...config.guards.map((g, i) => ({ key: `guards[${i}].command`, command: g.command })),
    ...config.gate.stages.map((s, i) => ({ key: `gate.stages[${i}].command`, command: s.command })),
  ];
  const problems: CommandProblem[] = [];
  for (const { key, command } of entries) {
    const file = commandFile(command);
    if (file === null) continue;
    const where = inRepo(root, file);
    if (where === 'ok') continue;
    problems.push({ key, file, message: `${key}: ${file} ${where === 'missing' ? 'does not exist in the repository' : 'is outside the repository'}` });
  }
  return problems;
}

/** Configuration errors of the Gate a plan would run: missing commands, and a Gate with no stage at all. */
export function gateConfigErrors(root: string, config: Pick<FactoryConfig, 'gate' | 'guards'>): string[] {
  return [
    ...(config.gate.stages.length === 0 ? ['gate.stages: no stage is configured, so the Gate would verify nothing; add the project\'s test commands'] : []),
    ...missingCommands(root, config).map((p) => p.message),
  ];
}

/**
 * Refuse a cycle whose Gate cannot run as configured, before any Worker is started.
 * @throws FactoryError `config.command-missing`, naming every config key at fault.
 */
export function assertGateCommands(root: string, config: Pick<FactoryConfig, 'gate' | 'guards'>): void {
  const errors = gateConfigErrors(root, config);
  if (errors.length === 0) return;
  throw new FactoryError(`the Gate cannot run as configured in .factory/config.json (no Worker was started): ${errors.join('; ')}`, 'config.command-missing');
}
