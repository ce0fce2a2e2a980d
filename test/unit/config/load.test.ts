import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE, loadConfig, loadConfigStrict } from '../../../src/core/config/load';
import { parseConfigText } from '../../../src/core/config/parse-config';
import { defaultConfig } from '../../../src/core/config/schema';
import { FactoryError } from '../../../src/core/util/errors';

/** A temp workspace with `.factory/config.json` holding `text` (or no config when undefined). */
function workspace(text?: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-config-'));
  if (text !== undefined) {
    fs.mkdirSync(path.join(root, '.factory'));
    fs.writeFileSync(path.join(root, CONFIG_FILE), text);
  }
  return root;
}

describe('config loader', () => {
  const roots: string[] = [];
  const ws = (text?: string) => {
    const r = workspace(text);
    roots.push(r);
    return r;
  };
  after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  it('gives the defaults and no diagnostics when the file is absent', async () => {
    const loaded = await loadConfig(ws());
    assert.deepEqual(loaded.config, defaultConfig());
    assert.deepEqual(loaded.diagnostics, []);
    assert.equal(loaded.file, undefined);
  });

  it('applies the file over the defaults and names the file it read', async () => {
    const root = ws(JSON.stringify({ worker: { memoryMb: 512 }, killSwitch: { maxRetries: 5 } }, null, 2));
    const loaded = await loadConfig(root);
    assert.deepEqual(loaded.diagnostics, []);
    assert.equal(loaded.file, path.join(root, CONFIG_FILE));
    assert.equal(loaded.config.worker.memoryMb, 512);
    assert.equal(loaded.config.worker.cpus, 1, 'sibling keys keep their defaults');
    assert.equal(loaded.config.killSwitch.maxRetries, 5);
    assert.equal(loaded.config.killSwitch.budgetUsd, 1);
  });

  it('SEC-19 corrupted config gives a diagnostic with the JSON path of the error, on the line of that key', async () => {
    const text = ['{', '  "worker": {', '    "cpus": 2,', '    "memoryMb": "lots"', '  }', '}', ''].join('\n');
    const loaded = await loadConfig(ws(text));
    assert.equal(loaded.diagnostics.length, 1, JSON.stringify(loaded.diagnostics));
    const d = loaded.diagnostics[0];
    assert.equal(d.message, 'worker.memoryMb: expected number, received string');
    assert.equal(d.line, 4);
    assert.equal(d.severity, 'error');
    assert.equal(d.file, '.factory/config.json');
    assert.deepEqual(loaded.config, defaultConfig(), 'an invalid file is not half-applied');
  });

  it('SEC-19 invalid JSON gives a diagnostic on the line of the syntax error', async () => {
    const text = ['{', '  "worker": {', '    "memoryMb": 512,', '  }', '}'].join('\n');
    const loaded = await loadConfig(ws(text));
    assert.ok(loaded.diagnostics.length >= 1);
    const d = loaded.diagnostics[0];
    assert.equal(d.severity, 'error');
    assert.equal(d.line, 4, JSON.stringify(d));
    assert.match(d.message, /^invalid JSON: /);
    assert.deepEqual(loaded.config, defaultConfig());
  });

  it('SEC-19 every unknown key is reported with its own path and line', () => {
    const text = ['{', '  "typo": 1,', '  "gate": {', '    "runIn": "host",', '    "stagez": []', '  }', '}'].join('\n');
    const { diagnostics } = parseConfigText(text);
    const byMessage = new Map(diagnostics.map((d) => [d.message.split(':')[0], d.line]));
    assert.equal(byMessage.get('typo'), 2);
    assert.equal(byMessage.get('gate.stagez'), 5);
  });

  it('SEC-19 errors inside arrays name the element index', () => {
    const text = ['{', '  "gate": {', '    "stages": [', '      { "name": "doctor", "command": [] }', '    ]', '  }', '}'].join('\n');
    const { diagnostics } = parseConfigText(text);
    assert.equal(diagnostics.length, 1);
    assert.match(diagnostics[0].message, /^gate\.stages\[0\]\.command: /);
    assert.equal(diagnostics[0].line, 4);
  });

  it('reports comments, an empty file and a non-object as errors (plain JSON only)', () => {
    assert.match(parseConfigText('{\n  // note\n  "git": {}\n}').diagnostics[0].message, /comments are not allowed/);
    assert.equal(parseConfigText('{\n  // note\n  "git": {}\n}').diagnostics[0].line, 2);
    assert.equal(parseConfigText('').diagnostics[0].severity, 'error');
    assert.match(parseConfigText('[1, 2]').diagnostics[0].message, /^\(root\): expected object, received array/);
  });

  it('warns about a duplicate key (the earlier value would be silently lost)', () => {
    const { config, diagnostics } = parseConfigText('{\n  "git": { "push": true },\n  "git": { "push": false }\n}');
    assert.equal(config.git.push, false);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].severity, 'warning');
    assert.equal(diagnostics[0].line, 3);
  });

  it('accepts a UTF-8 byte order mark', () => {
    assert.deepEqual(parseConfigText('\uFEFF{ "git": { "push": true } }').diagnostics, []);
  });

  it('reports a config path that is a directory instead of crashing', async () => {
    const root = ws();
    fs.mkdirSync(path.join(root, CONFIG_FILE), { recursive: true });
    const loaded = await loadConfig(root);
    assert.equal(loaded.diagnostics[0].code, 'config.unreadable');
  });

  it('strict variant throws a FactoryError with exit code 2 naming file, line and path', async () => {
    const root = ws('{\n  "worker": { "memoryMb": "lots" },\n  "oops": 1\n}');
    await assert.rejects(loadConfigStrict(root), (err: unknown) => {
      assert.ok(err instanceof FactoryError);
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /\.factory\/config\.json:2: worker\.memoryMb: expected number, received string \(and 1 more\)/);
      return true;
    });
    const ok = await loadConfigStrict(ws('{ "git": { "commit": false } }'));
    assert.equal(ok.config.git.commit, false);
  });
});
