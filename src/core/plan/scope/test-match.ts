/**
 * Tests go with the code they test (issue 15): a file the Worker may modify brings its existing
 * test files into `modify` (`engine/fees.py` ↔ `tests/test_fees.py`, `x.ts` ↔ `x.test.ts`), and a
 * test file it may modify brings the code under test in as `readonly` (the merge keeps `modify`
 * when that file was named itself). A file to be created brings the test it would get, named and
 * placed as its neighbours' tests are (`engine/slippage.py` → `tests/test_slippage.py`).
 */
import { baseName, dirName, extension, type FileIndex, isGlob } from './file-index';
import type { ScopeCandidate } from './scope-types';

const JS_EXT = new Set(['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs']);
const TEST_BASE = /^(?:test_.+\.py|.+_test\.(?:py|go)|.+\.(?:test|spec)\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs))$/;

/** True when the file's name marks it as a test (pytest, Go, Jest/Mocha/Vitest conventions). */
export function isTestFile(p: string): boolean {
  return TEST_BASE.test(baseName(p));
}

/** Base names a test of `base` may have. */
function testNamesOf(base: string): string[] {
  const ext = extension(base);
  const stem = base.slice(0, base.length - ext.length - 1);
  if (ext === 'py') return [`test_${stem}.py`, `${stem}_test.py`];
  if (ext === 'go') return [`${stem}_test.go`];
  if (JS_EXT.has(ext)) return [`${stem}.test.${ext}`, `${stem}.spec.${ext}`];
  return [];
}

/** Base name of the file a test base name tests, or undefined. */
function subjectNameOf(base: string): string | undefined {
  const py = /^test_(.+\.py)$/.exec(base) ?? /^(.+)_test\.(py|go)$/.exec(base);
  if (py?.[2]) return `${py[1]}.${py[2]}`;
  if (py?.[1]) return py[1];
  const js = /^(.+)\.(?:test|spec)\.([a-z]+)$/.exec(base);
  return js ? `${js[1]}.${js[2]}` : undefined;
}

/** How many folder names of `from` also appear in `to`'s folders (`engine/x.py` ~ `tests/engine/test_x.py`). */
function kinship(from: string, to: string): number {
  const theirs = new Set(dirName(to).split('/'));
  return dirName(from).split('/').filter((d) => d && theirs.has(d)).length + (dirName(from) === dirName(to) ? 1 : 0);
}

/** Of the files with one of `names`, those closest to `p` (several only on a tie). */
function closest(index: FileIndex, p: string, names: readonly string[], keep: (q: string) => boolean): string[] {
  const found = names.flatMap((n) => index.byBase.get(n) ?? []).filter((q) => q !== p && keep(q));
  if (found.length <= 1) return found;
  const scored = found.map((q) => ({ q, k: kinship(p, q) }));
  const best = Math.max(...scored.map((s) => s.k));
  return scored.filter((s) => s.k === best).map((s) => s.q);
}

/** The existing test files of a code file (Go tests only beside it). */
export function testsOf(index: FileIndex, p: string): string[] {
  const go = extension(baseName(p)) === 'go';
  return closest(index, p, testNamesOf(baseName(p)), (q) => !go || dirName(q) === dirName(p));
}

/** The existing files a test file tests. */
export function subjectsOf(index: FileIndex, testPath: string): string[] {
  const subject = subjectNameOf(baseName(testPath));
  return subject ? closest(index, testPath, [subject], (q) => !isTestFile(q)) : [];
}

/** Siblings consulted for a new file's test convention: enough to see it, bounded on huge folders. */
const MAX_SIBLINGS = 20;

/**
 * The test file a code file that does not exist yet would get: where tracked files of its folder
 * and kind have tests, the one placed and named as most of theirs are (`engine/fees.py` ↔
 * `tests/test_fees.py` gives `engine/slippage.py` → `tests/test_slippage.py`). Undefined when no
 * neighbour has a test to follow.
 */
export function newTestOf(index: FileIndex, p: string): string | undefined {
  const dir = dirName(p);
  const ext = extension(baseName(p));
  const names = testNamesOf(baseName(p));
  if (names.length === 0) return undefined;
  const siblings = index.sorted.filter((q) => dirName(q) === dir && extension(baseName(q)) === ext && !isTestFile(q)).slice(0, MAX_SIBLINGS);
  const votes = new Map<string, number>();
  for (const q of siblings) {
    for (const t of testsOf(index, q)) {
      const name = names[testNamesOf(baseName(q)).indexOf(baseName(t))];
      const target = name && (dirName(t) ? `${dirName(t)}/${name}` : name);
      if (target) votes.set(target, (votes.get(target) ?? 0) + 1);
    }
  }
  return [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/** The test candidates of a code file: its tracked tests, or for a new file the test it would get. */
function testsFor(index: FileIndex, p: string): ScopeCandidate[] {
  const found = testsOf(index, p);
  if (found.length || index.files.has(p)) return found.map((t) => ({ path: t, cls: 'modify', reason: `test of ${p}`, source: 'test-match' }));
  const created = newTestOf(index, p);
  return created ? [{ path: created, cls: 'modify', reason: `test of ${p} (new file)`, source: 'test-match' }] : [];
}

/**
 * Test-match candidates for every `modify` candidate naming one file (tracked, or to be created
 * as the text says):
 * its tests as `modify` ("test of engine/fees.py", "test of engine/slippage.py (new file)"), or,
 * for a test file, its subject as `readonly` ("code under test of tests/test_fees.py").
 */
export function testMatchCandidates(candidates: readonly ScopeCandidate[], index: FileIndex): ScopeCandidate[] {
  const out: ScopeCandidate[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    // Untracked paths only from the text, which names them only as files to create (text-sources.ts):
    // a file history or a model names that is gone brings no test.
    if (c.cls !== 'modify' || isGlob(c.path) || seen.has(c.path) || (!index.files.has(c.path) && c.source !== 'text')) continue;
    seen.add(c.path);
    if (isTestFile(c.path)) {
      for (const s of subjectsOf(index, c.path)) out.push({ path: s, cls: 'readonly', reason: `code under test of ${c.path}`, source: 'test-match' });
    } else {
      out.push(...testsFor(index, c.path));
    }
  }
  return out;
}
