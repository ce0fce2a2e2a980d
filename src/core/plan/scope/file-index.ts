/**
 * One pass over `git ls-files` that every scope source looks names up in (issue 15): exact paths,
 * base names, module keys (`a/b/c` for `a/b/c.py`, `a/b` for `a/b/__init__.py`) and folders.
 * Built once per derivation; every lookup afterwards is a map hit, so a 10k-file repository costs
 * one linear scan, not one per name in the ticket text.
 */

/** Extensions whose files are importable modules: `a.b.c` may name `a/b/c.<ext>`. */
const MODULE_EXT = new Set(['py', 'pyi', 'ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs']);
/** A folder's own module file: `a/b/__init__.py` is the module `a.b`. */
const PACKAGE_FILES = /^(?:__init__\.pyi?|index\.(?:ts|tsx|js|jsx|mjs|cjs))$/;

/** A module key and the file that defines it. */
interface ModuleEntry {
  key: string;
  path: string;
}

/** The part of `p` after its last `/`. */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The part of `p` before its last `/` ('' at the top level). */
export function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** The extension of a base name without the dot ('' when none; a leading dot is not one). */
export function extension(base: string): string {
  const i = base.lastIndexOf('.');
  return i <= 0 ? '' : base.slice(i + 1).toLowerCase();
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The module key of a file, or undefined when it is not an importable module. */
function moduleKey(p: string): string | undefined {
  const base = baseName(p);
  if (!MODULE_EXT.has(extension(base))) return undefined;
  if (PACKAGE_FILES.test(base)) return dirName(p) || undefined;
  return p.slice(0, p.length - extension(base).length - 1);
}

/**
 * The look-ups over the tracked files. Each map is built on first use: most tickets need only the
 * base names, and on a 10k-file repository every map is an allocation the derivation pays for.
 */
export class FileIndex {
  /** Every tracked file (repo-relative, forward slashes). */
  readonly files: ReadonlySet<string>;
  #byBase?: Map<string, string[]>;
  #modules?: Map<string, ModuleEntry[]>;
  #dirs?: Set<string>;
  #sorted?: string[];

  constructor(list: readonly string[]) {
    this.files = new Set(list.filter((f) => f.length > 0));
  }

  /** Base name → the tracked files with that name. */
  get byBase(): ReadonlyMap<string, readonly string[]> {
    if (!this.#byBase) {
      this.#byBase = new Map();
      for (const p of this.files) push(this.#byBase, baseName(p), p);
    }
    return this.#byBase;
  }

  /** Last segment of a module key → the modules ending in it. */
  get modules(): ReadonlyMap<string, readonly ModuleEntry[]> {
    if (!this.#modules) {
      this.#modules = new Map();
      for (const p of this.files) {
        const key = moduleKey(p);
        if (key) push(this.#modules, baseName(key), { key, path: p });
      }
    }
    return this.#modules;
  }

  /** Every folder holding a tracked file, at any depth (no trailing slash). */
  get dirs(): ReadonlySet<string> {
    if (!this.#dirs) {
      const dirs = new Set<string>();
      for (const p of this.files) for (let d = dirName(p); d && !dirs.has(d); d = dirName(d)) dirs.add(d);
      this.#dirs = dirs;
    }
    return this.#dirs;
  }

  /** The tracked files, sorted (prefix ranges for folder counts). */
  get sorted(): readonly string[] {
    return (this.#sorted ??= [...this.files].sort());
  }
}

/** Index `git ls-files` output (duplicates and empty lines ignored). */
export function indexFiles(list: readonly string[]): FileIndex {
  return new FileIndex(list);
}

/** Files defining the module `key` (`a/b/c`), also under a source root (`src/a/b/c.py`). */
export function moduleFiles(index: FileIndex, key: string): string[] {
  const entries = index.modules.get(baseName(key)) ?? [];
  return entries.filter((e) => e.key === key || e.key.endsWith(`/${key}`)).map((e) => e.path);
}

/** How many tracked files lie under folder `dir` (any depth). */
export function filesUnder(index: FileIndex, dir: string): number {
  const prefix = `${dir}/`;
  const { sorted } = index;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
    else hi = mid;
  }
  let n = 0;
  while (lo + n < sorted.length && (sorted[lo + n] ?? '').startsWith(prefix)) n++;
  return n;
}

/** True when `p` holds glob syntax (it names a set of files, not one). */
export function isGlob(p: string): boolean {
  return /[*?[\]{}!]/.test(p);
}
