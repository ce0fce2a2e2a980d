import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { runCommand } from '../../../src/cli/io';
import { ERROR_CODES, FactoryError, exitCodeOf, type FactoryErrorCode } from '../../../src/core/util/errors';
import { buildCli, REPO_ROOT, runCli, tempDirs } from './cli-process';

/** Every `new FactoryError(message, code[, exitCode])` under src, with its literal arguments. */
function callSites(): Array<{ where: string; code: string; exit?: string }> {
  const sites: Array<{ where: string; code: string; exit?: string }> = [];
  const src = path.join(REPO_ROOT, 'src');
  for (const rel of fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
    const file = ts.createSourceFile(rel, fs.readFileSync(path.join(src, rel), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (ts.isNewExpression(n) && n.expression.getText(file) === 'FactoryError') {
        const [, code, exit] = n.arguments ?? [];
        const where = `src/${rel}:${file.getLineAndCharacterOfPosition(n.getStart(file)).line + 1}`;
        sites.push({ where, code: code?.getText(file) ?? '', ...(exit ? { exit: exit.getText(file) } : {}) });
      }
      ts.forEachChild(n, visit);
    };
    visit(file);
  }
  return sites;
}

const CODES = Object.keys(ERROR_CODES) as FactoryErrorCode[];

describe('FactoryError codes: one table of meanings and exit codes', () => {
  it('every code has a one-line meaning and an exit code of the CLI convention', () => {
    assert.ok(CODES.length > 0);
    for (const code of CODES) {
      const { exit, meaning } = ERROR_CODES[code];
      assert.ok([0, 1, 2, 3, 130].includes(exit), `${code}: exit ${exit}`);
      assert.ok(meaning.trim().length >= 10, `${code}: meaning missing`);
      assert.ok(!meaning.includes('\n'), `${code}: meaning is one line`);
    }
  });

  it('an error takes its exit code from the table', () => {
    for (const code of CODES) assert.equal(new FactoryError('x', code).exitCode, exitCodeOf(code));
  });

  it('every call site names a code of the table and passes no exit code of its own', () => {
    const sites = callSites();
    assert.ok(sites.length > 50, `found ${sites.length} call sites`);
    for (const s of sites) {
      const code = /^'([^']+)'$/.exec(s.code)?.[1];
      assert.ok(code && code in ERROR_CODES, `${s.where}: code ${s.code} is not a literal of ERROR_CODES`);
      assert.equal(s.exit, undefined, `${s.where}: passes exit code ${s.exit}; the table decides it`);
    }
  });

  it('the CLI exits with the table\'s exit code for every code (runCommand)', async () => {
    const saved = process.exitCode;
    const stderr = process.stderr.write.bind(process.stderr);
    try {
      for (const code of CODES) {
        const lines: string[] = [];
        process.stderr.write = (s: string | Uint8Array) => {
          lines.push(String(s));
          return true;
        };
        await runCommand(async () => {
          throw new FactoryError(`failing with ${code}`, code);
        });
        process.stderr.write = stderr;
        assert.equal(process.exitCode, ERROR_CODES[code].exit, code);
        assert.deepEqual(lines, [`factory: failing with ${code}\n`], 'one line on stderr');
      }
    } finally {
      process.stderr.write = stderr;
      process.exitCode = saved;
    }
  });

  describe('real process (node dist/cli.js)', function () {
    this.timeout(60_000);
    const tmp = tempDirs();
    before(() => buildCli());
    after(() => tmp.cleanup());

    it('usage, ssot.missing and plan.queue-empty exit with their table codes', () => {
      const empty = tmp.make('exit-empty');
      const missing = runCli(['status', '--root', empty]);
      assert.equal(missing.code, ERROR_CODES['ssot.missing'].exit, missing.stderr);
      assert.match(missing.stderr, /^factory: missing SSOT document\(s\)/);

      const usage = runCli(['run', '--root', empty, '--max-cycles', '0']);
      assert.equal(usage.code, ERROR_CODES.usage.exit, usage.stderr);
      assert.match(usage.stderr, /--max-cycles must be a positive integer/);

      const done = tmp.make('exit-done');
      assert.equal(runCli(['init', '--root', done]).code, 0);
      const ledger = path.join(done, 'docs', 'v2', 'design', 'AC_LEDGER.md');
      fs.writeFileSync(ledger, fs.readFileSync(ledger, 'utf8').replace('| D100 | OPEN |', '| D100 | DONE |'));
      const empty2 = runCli(['plan', '--root', done]);
      assert.equal(empty2.code, ERROR_CODES['plan.queue-empty'].exit, empty2.stderr);
      assert.match(empty2.stderr, /the queue is empty/);
    });
  });
});
