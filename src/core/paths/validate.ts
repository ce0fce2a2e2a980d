/**
 * THE path validator (SECURITY 17). Plan scope globs, roadmap paths, result.json paths and every
 * path of a changeset go through here, so one definition of "a safe repository path" holds
 * everywhere. Paths are repo-relative, forward-slash, NFC strings; anything else is rejected rather
 * than normalised, so what is checked is exactly what is later matched and written.
 */

/** Why a path was rejected. Stable strings: they appear in `violations[].rule`. */
export type PathRule =
  | 'empty'
  | 'absolute'
  | 'dot-dot'
  | 'dot-segment'
  | 'backslash'
  | 'control-char'
  | 'not-nfc'
  | 'too-long'
  | 'git-dir'
  | 'gitmodules'
  | 'gitattributes'
  | 'vscode'
  | 'workflows';

export interface PathProblem {
  path: string;
  rule: PathRule;
  message: string;
}

export interface ValidateOptions {
  /**
   * `path` (default): a concrete repository path. `glob`: a scope pattern; glob syntax is allowed
   * but the same segment rules apply to its literal parts.
   */
  kind?: 'path' | 'glob';
  /**
   * Also reject the protected locations a Worker must never create or change (`.gitmodules`,
   * `.gitattributes`, `.vscode/**`, `.github/workflows/**`). `.git` is always rejected.
   * Default true.
   */
  protect?: boolean;
}

const MAX_PATH_BYTES = 4096;
const MAX_SEGMENT_BYTES = 255;
// C0 controls, DEL and C1 controls: never part of a file name we accept (newlines included).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A segment as Windows/macOS would see it: case-folded, trailing dots and spaces dropped. */
function folded(segment: string): string {
  return segment.toLowerCase().replace(/[. ]+$/, '');
}

/**
 * Check one repo-relative path (or scope glob). Returns the first problem, or undefined when the
 * path is safe. Case-insensitive for the protected names, so `.GIT/config` and `.Git./hooks` fail
 * too (they alias `.git` on case-insensitive or Windows file systems).
 */
export function checkRepoPath(p: string, opts: ValidateOptions = {}): PathProblem | undefined {
  const problem = (rule: PathRule, message: string): PathProblem => ({ path: p, rule, message });
  if (typeof p !== 'string' || p.length === 0) return problem('empty', 'empty path');
  if (CONTROL.test(p)) return problem('control-char', 'contains a control character (newline, tab, escape…)');
  if (p.includes('\\')) return problem('backslash', 'contains a backslash');
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.startsWith('~')) return problem('absolute', 'is absolute');
  if (p.normalize('NFC') !== p) return problem('not-nfc', 'is not in Unicode NFC form');
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) return problem('too-long', `is longer than ${MAX_PATH_BYTES} bytes`);
  const segments = p.split('/');
  for (const [i, s] of segments.entries()) {
    if (s === '..') return problem('dot-dot', 'contains a `..` segment');
    if (s === '.' || (s === '' && i !== segments.length - 1)) return problem('dot-segment', 'contains an empty or `.` segment');
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) return problem('too-long', `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    if (folded(s) === '.git') return problem('git-dir', 'is inside a `.git` folder');
  }
  if (opts.kind !== 'glob' && segments.at(-1) === '') return problem('dot-segment', 'ends with a slash');
  if (opts.protect === false) return undefined;
  const f = segments.map(folded);
  const last = f.at(-1) ?? '';
  if (last === '.gitmodules') return problem('gitmodules', 'is a `.gitmodules` file');
  if (last === '.gitattributes') return problem('gitattributes', 'is a `.gitattributes` file');
  if (f.includes('.vscode')) return problem('vscode', 'is inside a `.vscode` folder');
  if (f[0] === '.github' && f[1] === 'workflows') return problem('workflows', 'is inside `.github/workflows`');
  return undefined;
}

/** All problems of a list of paths (one per path at most). */
export function checkRepoPaths(paths: readonly string[], opts: ValidateOptions = {}): PathProblem[] {
  return paths.map((p) => checkRepoPath(p, opts)).filter((x): x is PathProblem => x !== undefined);
}

/** True when `p` passes `checkRepoPath` with the given options. */
export function isSafeRepoPath(p: string, opts: ValidateOptions = {}): boolean {
  return checkRepoPath(p, opts) === undefined;
}

/** Throwing form for parsers (zod refinements use `checkRepoPath` directly). */
export function assertSafeRepoPath(p: string, opts: ValidateOptions = {}): string {
  const problem = checkRepoPath(p, opts);
  if (problem) throw new Error(`unsafe path ${JSON.stringify(p)}: ${problem.message}`);
  return p;
}
