import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SCHEMA_REGISTRY, SCHEMAS_DIR, staleSchemas } from '../../../scripts/gen-schemas';
import { configJsonSchemaText } from '../../../src/core/config/config-json-schema';

describe('generated JSON schemas', () => {
  it('every committed schema under schemas/ matches its zod schema (run `npm run schemas` when this fails)', () => {
    assert.deepEqual(staleSchemas(), []);
    for (const e of SCHEMA_REGISTRY) assert.ok(fs.existsSync(path.join(SCHEMAS_DIR, e.file)), e.file);
  });

  it('detects a stale or missing schema file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-schemas-'));
    try {
      assert.deepEqual(staleSchemas(dir), SCHEMA_REGISTRY.map((e) => e.file), 'missing files are stale');
      for (const e of SCHEMA_REGISTRY) fs.writeFileSync(path.join(dir, e.file), e.render());
      assert.deepEqual(staleSchemas(dir), []);
      const first = SCHEMA_REGISTRY[0];
      fs.writeFileSync(path.join(dir, first.file), first.render().replace('"default": 2048', '"default": 4096'));
      assert.deepEqual(staleSchemas(dir), [first.file]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
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
