/**
 * Test counts out of a stage's output. The Gate does not trust exit codes alone: a runner that
 * exits 0 while its own summary says "1 failed" is a FAIL, and gate.log names the failed tests.
 */

export type TestFramework = 'pytest' | 'mocha' | 'node-test' | 'jest' | 'generic';

export interface TestCounts {
  framework: TestFramework;
  passed: number;
  failed: number;
  skipped: number;
  /** Collection/setup errors (pytest `errors`, jest suites that failed to run). */
  errors: number;
  /** `pytest --collect-only`: how many tests were collected. */
  collected?: number;
  /** Names of failed tests, as the framework printed them (at most 50). */
  failedTests: string[];
}

const MAX_NAMES = 50;
// Colour codes would split the words the patterns look for.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

function num(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

function lastMatch(text: string, re: RegExp): RegExpExecArray | undefined {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let m: RegExpExecArray | null;
  let last: RegExpExecArray | undefined;
  while ((m = g.exec(text)) !== null) last = m;
  return last;
}

function uniq(names: string[]): string[] {
  return [...new Set(names.map((n) => n.trim()).filter(Boolean))].slice(0, MAX_NAMES);
}

/** pytest: `== 3 passed, 1 failed, 2 skipped in 0.12s ==`, `-q` summaries, `--collect-only`. */
function parsePytest(text: string): TestCounts | undefined {
  const collectedOnly = lastMatch(text, /^(?:=+ )?(\d+)(?:\/\d+)? tests? collected(?: \(\d+ deselected\))?(?:, (\d+) errors?)? in [\d.]+s/m);
  const summary = lastMatch(
    text,
    /^(?:=+ )?((?:\d+ (?:passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?|rerun)(?:, )?)+) in [\d.]+s(?: \([^)]*\))?(?: =+)?\s*$/m,
  );
  const noTests = /^(?:=+ )?no tests ran in [\d.]+s/m.test(text);
  if (!collectedOnly && !summary && !noTests) return undefined;
  const counts: TestCounts = { framework: 'pytest', passed: 0, failed: 0, skipped: 0, errors: 0, failedTests: [] };
  if (summary) {
    for (const part of summary[1].split(', ')) {
      const m = /^(\d+) (\w+)$/.exec(part.trim());
      if (!m) continue;
      const n = num(m[1]);
      switch (m[2]) {
        case 'passed':
        case 'xpassed':
          counts.passed += n;
          break;
        case 'failed':
          counts.failed += n;
          break;
        case 'skipped':
        case 'xfailed':
          counts.skipped += n;
          break;
        case 'error':
        case 'errors':
          counts.errors += n;
          break;
      }
    }
  }
  if (collectedOnly) {
    counts.collected = num(collectedOnly[1]);
    counts.errors += num(collectedOnly[2]);
  }
  const names: string[] = [];
  for (const m of text.matchAll(/^(?:FAILED|ERROR) (\S+)(?: - .*)?$/gm)) names.push(m[1]);
  counts.failedTests = uniq(names);
  return counts;
}

/** jest: `Tests:       1 failed, 2 passed, 3 total` and `● Suite › test` headers. */
function parseJest(text: string): TestCounts | undefined {
  const m = lastMatch(text, /^Tests:\s+(.*\d+ total)\s*$/m);
  if (!m) return undefined;
  const counts: TestCounts = { framework: 'jest', passed: 0, failed: 0, skipped: 0, errors: 0, failedTests: [] };
  for (const part of m[1].split(',')) {
    const p = /(\d+) (\w+)/.exec(part.trim());
    if (!p) continue;
    if (p[2] === 'passed') counts.passed = num(p[1]);
    else if (p[2] === 'failed') counts.failed = num(p[1]);
    else if (p[2] === 'skipped' || p[2] === 'todo' || p[2] === 'pending') counts.skipped += num(p[1]);
  }
  const suites = lastMatch(text, /^Test Suites:\s+(\d+) failed/m);
  if (suites && counts.failed === 0) counts.errors = num(suites[1]);
  counts.failedTests = uniq([...text.matchAll(/^\s*● (.+›.+)$/gm)].map((x) => x[1]));
  return counts;
}

/** node --test: TAP (`# pass 2`) or the spec reporter (`ℹ pass 2`). */
function parseNodeTest(text: string): TestCounts | undefined {
  const tests = lastMatch(text, /^(?:#|ℹ) tests (\d+)\s*$/m);
  const pass = lastMatch(text, /^(?:#|ℹ) pass (\d+)\s*$/m);
  const fail = lastMatch(text, /^(?:#|ℹ) fail (\d+)\s*$/m);
  if (!tests || !pass || !fail) return undefined;
  const skipped = num(lastMatch(text, /^(?:#|ℹ) skipped (\d+)\s*$/m)?.[1]) + num(lastMatch(text, /^(?:#|ℹ) todo (\d+)\s*$/m)?.[1]);
  const cancelled = num(lastMatch(text, /^(?:#|ℹ) cancelled (\d+)\s*$/m)?.[1]);
  const names: string[] = [];
  for (const m of text.matchAll(/^\s*not ok \d+ - (.+?)(?:\s+#.*)?$/gm)) names.push(m[1]);
  for (const m of text.matchAll(/^\s*✖ (.+?)(?: \([\d.]+m?s\))?$/gm)) if (!/^failing tests:?$/.test(m[1])) names.push(m[1]);
  return { framework: 'node-test', passed: num(pass[1]), failed: num(fail[1]), skipped, errors: cancelled, failedTests: uniq(names) };
}

/** mocha (spec/dot reporters): `3 passing (12ms)`, `1 failing`, `2 pending`, `1) suite test:`. */
function parseMocha(text: string): TestCounts | undefined {
  const passing = lastMatch(text, /^\s*(\d+) passing \(\d+(?:\.\d+)?m?s\)\s*$/m);
  if (!passing) return undefined;
  const failing = lastMatch(text, /^\s*(\d+) failing\s*$/m);
  const pending = lastMatch(text, /^\s*(\d+) pending\s*$/m);
  const names: string[] = [];
  // The failure list after "N failing": "  1) Suite\n       test name:\n" or "  1) Suite test name:".
  const failIdx = failing ? text.lastIndexOf(failing[0]) : -1;
  if (failIdx >= 0) {
    const rest = text.slice(failIdx).split('\n');
    for (let i = 0; i < rest.length; i++) {
      const m = /^\s{2}(\d+)\) (.*)$/.exec(rest[i]);
      if (!m) continue;
      let name = m[2].trim();
      // Nested suites put one title per line until the line ending in ':'.
      let j = i + 1;
      while (!name.endsWith(':') && j < rest.length && rest[j].trim() !== '') {
        name += ' ' + rest[j].trim();
        j++;
      }
      names.push(name.replace(/:$/, ''));
    }
  }
  return { framework: 'mocha', passed: num(passing[1]), failed: num(failing?.[1]), skipped: num(pending?.[1]), errors: 0, failedTests: uniq(names) };
}

/** Any tool that ends with `N passed, N failed[, N skipped]` (this project's own `npm test`). */
function parseGeneric(text: string): TestCounts | undefined {
  const m = lastMatch(text, /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/m);
  if (!m) return undefined;
  return { framework: 'generic', passed: num(m[1]), failed: num(m[2]), skipped: num(m[3]), errors: 0, failedTests: [] };
}

/**
 * Reads the test counts of the framework whose summary appears in `output`, or undefined when
 * none does (a lint step, a guard script). More specific formats are tried first.
 */
export function parseTestCounts(output: string): TestCounts | undefined {
  const text = output.replace(ANSI, '').replace(/\r\n?/g, '\n');
  return parseJest(text) ?? parseNodeTest(text) ?? parseMocha(text) ?? parsePytest(text) ?? parseGeneric(text);
}

/** `27/27 PASS`, `25/27 PASS, 2 failed`, `289 tests collected`: the words gate.log uses. */
export function describeCounts(c: TestCounts): string {
  if (c.collected !== undefined && c.passed + c.failed === 0) {
    return `${c.collected} tests collected${c.errors ? `, ${c.errors} errors` : ''}`;
  }
  const total = c.passed + c.failed + c.errors;
  const parts = [`${c.passed}/${total} PASS`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.errors) parts.push(`${c.errors} errors`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  return parts.join(', ');
}
