/**
 * Whether two cycles' scopes may run side by side (issue 18, a parallel factory): PURE, no I/O.
 * Two cycles may run together only when their modify scopes are disjoint and neither's modify
 * scope meets the other's readonly scope. The answer is conservative: a false "overlap" only makes
 * a ticket wait; a false "disjoint" would let two Workers write the same file, so every doubt is
 * an overlap. Patterns are matched as the scope check matches them (picomatch, dot files, no
 * negation, no extglob, strict slashes).
 */
import picomatch from 'picomatch';

const PM_OPTIONS: picomatch.PicomatchOptions = { dot: true, nocase: false, nonegate: true, noextglob: true, strictSlashes: true };

/** Characters that make a pattern more than a literal path (escapes and extglob markers included: every doubt counts). */
const META = /[*?[\]{}()!+@\\]/;

/** The part of the scope two cycles are compared on. */
export interface ScopeSides {
  modify: readonly string[];
  readonly: readonly string[];
}

/** Whether `pattern` is a plain path (no glob character at all). */
function isLiteral(pattern: string): boolean {
  return !META.test(pattern);
}

/** The literal text before the pattern's first glob character (the whole pattern when literal). */
export function literalPrefix(pattern: string): string {
  const i = pattern.search(META);
  return i < 0 ? pattern : pattern.slice(0, i);
}

/** The literal text after the pattern's last glob character ('' when it ends in one). */
export function literalSuffix(pattern: string): string {
  for (let i = pattern.length - 1; i >= 0; i--) if (META.test(pattern[i] ?? '')) return pattern.slice(i + 1);
  return pattern;
}

/** `a` starts with `b` or `b` starts with `a`. */
const prefixCompatible = (a: string, b: string): boolean => a.startsWith(b) || b.startsWith(a);
/** `a` ends with `b` or `b` ends with `a`. */
const suffixCompatible = (a: string, b: string): boolean => a.endsWith(b) || b.endsWith(a);

/**
 * Whether some path could match both patterns. A literal pattern is one path: it overlaps when
 * the other pattern matches it. Two globs overlap unless their literal prefixes (or literal
 * suffixes) rule it out: a path matching `engine/*` starts with `engine/`, one matching `tests/**`
 * with `tests/`, so none matches both; a path matching `**\/*.py` ends in `.py`, one matching
 * `**\/*.md` in `.md`. Anything else counts as an overlap. A tracked file matching both always does.
 */
export function patternsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const la = isLiteral(a);
  const lb = isLiteral(b);
  // A literal may name a folder (the read-only overlays take a literal folder whole): it stands
  // for itself and everything under it.
  if (la && lb) return under(a, b) || under(b, a);
  if (la) return picomatch.isMatch(a, b, PM_OPTIONS) || globsOverlap(`${trimSlash(a)}/**`, b);
  if (lb) return picomatch.isMatch(b, a, PM_OPTIONS) || globsOverlap(`${trimSlash(b)}/**`, a);
  return globsOverlap(a, b);
}

const trimSlash = (p: string): string => p.replace(/\/+$/, '');

/** `p` is `dir` or lies under it. */
function under(p: string, dir: string): boolean {
  const d = trimSlash(dir);
  return trimSlash(p) === d || p.startsWith(`${d}/`);
}

/** Two globs: disjoint only when their literal prefixes or literal suffixes rule it out. */
function globsOverlap(a: string, b: string): boolean {
  if (!prefixCompatible(literalPrefix(a), literalPrefix(b))) return false;
  return suffixCompatible(literalSuffix(a), literalSuffix(b));
}

/** One overlap between two scopes: which side of each and which patterns. */
export interface ScopeOverlap {
  /** e.g. `modify/modify`, `modify/readonly` (first cycle's side / second cycle's side). */
  sides: 'modify/modify' | 'modify/readonly' | 'readonly/modify';
  a: string;
  b: string;
  /** A tracked file both patterns match, when one was found (the reason said concretely). */
  file?: string;
}

/** The first pair of patterns of `as` and `bs` that overlap, or null. */
function firstOverlap(as: readonly string[], bs: readonly string[]): { a: string; b: string } | null {
  for (const a of as) for (const b of bs) if (patternsOverlap(a, b)) return { a, b };
  return null;
}

/**
 * Why cycles with scopes `a` and `b` may not run together (the first overlap found), or null when
 * they may: modify against modify, then each one's modify against the other's readonly. `files`
 * (the tracked files, optional) only name a concrete file in the reason; they never prove two
 * patterns disjoint (a Worker may create a file).
 */
export function scopeOverlap(a: ScopeSides, b: ScopeSides, files: readonly string[] = []): ScopeOverlap | null {
  const checks: [ScopeOverlap['sides'], readonly string[], readonly string[]][] = [
    ['modify/modify', a.modify, b.modify],
    ['modify/readonly', a.modify, b.readonly],
    ['readonly/modify', a.readonly, b.modify],
  ];
  for (const [sides, as, bs] of checks) {
    const hit = firstOverlap(as, bs);
    if (!hit) continue;
    const both = files.length ? files.find((f) => picomatch.isMatch(f, hit.a, PM_OPTIONS) && picomatch.isMatch(f, hit.b, PM_OPTIONS)) : undefined;
    return { sides, ...hit, ...(both ? { file: both } : {}) };
  }
  return null;
}

/** The overlap in words, for the `waiting` event: "its modify `engine/**` meets the readonly `engine/fees.py` of …". */
export function overlapReason(o: ScopeOverlap): string {
  const [mine, theirs] = o.sides.split('/') as [string, string];
  return `its ${mine} scope ${JSON.stringify(o.a)} meets the ${theirs} scope ${JSON.stringify(o.b)}${o.file ? ` (both match ${o.file})` : ''}`;
}
