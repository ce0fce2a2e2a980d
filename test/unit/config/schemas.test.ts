import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GENERATED_FILES, REPO_ROOT, SCHEMA_REGISTRY, staleFiles } from '../../../scripts/gen-schemas';
import { configJsonSchemaText } from '../../../src/core/config/config-json-schema';
import { defaultConfigFast } from '../../../src/core/config/load';
import { defaultConfig } from '../../../src/core/config/schema';

describe('generated JSON schemas and defaults', () => {
  it('every committed generated file matches its zod schema (run `npm run schemas` when this fails)', () => {
    assert.deepEqual(staleFiles(), []);
    for (const e of SCHEMA_REGISTRY) assert.ok(e.path.startsWith('schemas/') && fs.existsSync(path.join(REPO_ROOT, e.path)), e.path);
  });

  it('detects a stale or missing generated file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-schemas-'));
    try {
      assert.deepEqual(staleFiles(dir), GENERATED_FILES.map((e) => e.path), 'missing files are stale');
      for (const e of GENERATED_FILES) {
        fs.mkdirSync(path.dirname(path.join(dir, e.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, e.path), e.render());
      }
      assert.deepEqual(staleFiles(dir), []);
      const first = SCHEMA_REGISTRY[0];
      fs.writeFileSync(path.join(dir, first.path), first.render().replace('"default": 2048', '"default": 4096'));
      assert.deepEqual(staleFiles(dir), [first.path]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the zod-free defaults equal configSchema.parse({}) and are a fresh copy each time', () => {
    assert.deepEqual(defaultConfigFast(), defaultConfig());
    const a = defaultConfigFast();
    a.worker.memoryMb = 1;
    assert.equal(defaultConfigFast().worker.memoryMb, defaultConfig().worker.memoryMb);
  });

  it('the config schema describes what people write: strict objects, defaults, enums', () => {
    const schema = JSON.parse(configJsonSchemaText());
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.additionalProperties, false, 'unknown top-level keys are flagged in the editor');
    assert.equal(schema.required, undefined, 'every key is optional');
    assert.equal(schema.properties.worker.properties.memoryMb.default, 2048);
    assert.equal(schema.properties.worker.properties.memoryMb.type, 'integer');
    assert.deepEqual(schema.properties.gate.properties.runIn.enum, ['container', 'host']);
    assert.equal(schema.properties.killSwitch.properties.budgetUsd.default, 1);
    assert.ok(schema.properties.$schema, 'the $schema key itself is allowed');
  });
});
