/**
 * `npm run schemas` — writes schemas/*.json from the zod schemas, so editors validate the files
 * the factory reads and writes (contributed to VS Code through `jsonValidation`).
 * `--check` writes nothing and exits 1 when a committed schema is stale (the unit test does the
 * same). To add a schema, add ONE line to SCHEMA_REGISTRY.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configJsonSchemaText, CONFIG_SCHEMA_FILE } from '../src/core/config/config-json-schema';
import { jsonSchemaText } from '../src/core/config/json-schema';
import { planSchema } from '../src/core/contracts/plan';
import { resultSchema } from '../src/core/contracts/result';
import { auditReportSchema } from '../src/core/contracts/audit-report';

export interface SchemaEntry {
  /** File name under schemas/. */
  file: string;
  /** Produces the schema text (deterministic). */
  render: () => string;
}

export const SCHEMA_REGISTRY: SchemaEntry[] = [
  { file: CONFIG_SCHEMA_FILE, render: configJsonSchemaText },
  { file: 'plan.schema.json', render: () => jsonSchemaText(planSchema, { title: 'plan.json', description: 'Controller → Worker: the ticket, its ACs and the file scope (spec §4-2).' }) },
  { file: 'result.schema.json', render: () => jsonSchemaText(resultSchema, { title: 'result.json', description: 'Worker → Controller: the Worker\'s own report (untrusted; spec §4-2).' }) },
  { file: 'audit-report.schema.json', render: () => jsonSchemaText(auditReportSchema, { title: 'audit_report.json', description: 'Auditor → Controller: verdict and violations.' }) },
  // e.g. { file: 'plan.schema.json', render: () => jsonSchemaText(planSchema, { title: 'plan.json' }) },
];

export const SCHEMAS_DIR = path.resolve(__dirname, '..', 'schemas');

/** Entries whose committed file differs from what the zod schema generates now. */
export function staleSchemas(dir = SCHEMAS_DIR): string[] {
  return SCHEMA_REGISTRY.filter((e) => {
    const file = path.join(dir, e.file);
    return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== e.render();
  }).map((e) => e.file);
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleSchemas();
    if (stale.length > 0) {
      console.error(`stale schemas (run \`npm run schemas\`): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log(`${SCHEMA_REGISTRY.length} schema(s) up to date`);
    return;
  }
  fs.mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const e of SCHEMA_REGISTRY) {
    fs.writeFileSync(path.join(SCHEMAS_DIR, e.file), e.render());
    console.log(`wrote schemas/${e.file}`);
  }
}

if (require.main === module) main();
