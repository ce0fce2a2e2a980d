/**
 * `npm run schemas` — writes the files generated from the zod schemas: schemas/*.json, so editors
 * validate the files the factory reads and writes (contributed to VS Code through
 * `jsonValidation`), and src/core/config/defaults.json, the config defaults the CLI reads without
 * loading zod. `--check` writes nothing and exits 1 when a committed file is stale (the unit test
 * does the same). To add a schema, add ONE line to SCHEMA_REGISTRY.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configJsonSchemaText, CONFIG_SCHEMA_FILE } from '../src/core/config/config-json-schema';
import { jsonSchemaText } from '../src/core/config/json-schema';
import { defaultConfig } from '../src/core/config/schema';
import { auditReportSchema } from '../src/core/contracts/audit-report';
import { planSchema } from '../src/core/contracts/plan';
import { resultSchema } from '../src/core/contracts/result';
import { manifestSchema } from '../src/core/evidence/evidence-format';

export interface GeneratedFile {
  /** Repo-relative path, forward slashes. */
  path: string;
  /** Produces the file's text (deterministic). */
  render: () => string;
}

export const SCHEMA_REGISTRY: GeneratedFile[] = [
  { path: `schemas/${CONFIG_SCHEMA_FILE}`, render: configJsonSchemaText },
  { path: 'schemas/plan.schema.json', render: () => jsonSchemaText(planSchema, { title: 'plan.json', description: 'Controller → Worker: the ticket, its ACs and the file scope (spec §4-2).' }) },
  { path: 'schemas/result.schema.json', render: () => jsonSchemaText(resultSchema, { title: 'result.json', description: 'Worker → Controller: the Worker\'s own report (untrusted; spec §4-2).' }) },
  { path: 'schemas/audit-report.schema.json', render: () => jsonSchemaText(auditReportSchema, { title: 'audit_report.json', description: 'Auditor → Controller: verdict and violations.' }) },
  { path: 'schemas/evidence-manifest.schema.json', render: () => jsonSchemaText(manifestSchema, { title: 'manifest.json', description: 'Evidence run metadata with every file\'s sha256 (logs/evidence/<run_id>/manifest.json; EVIDENCE_FORMAT.md).' }) },
];

/** Everything this script writes: the schemas plus the zod-free config defaults. */
export const GENERATED_FILES: GeneratedFile[] = [
  ...SCHEMA_REGISTRY,
  { path: 'src/core/config/defaults.json', render: () => JSON.stringify(defaultConfig(), null, 2) + '\n' },
];

export const REPO_ROOT = path.resolve(__dirname, '..');

/** Generated files whose committed text under `root` differs from what the zod schemas give now. */
export function staleFiles(root = REPO_ROOT): string[] {
  return GENERATED_FILES.filter((e) => {
    const file = path.join(root, e.path);
    return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== e.render();
  }).map((e) => e.path);
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(`stale generated files (run \`npm run schemas\`): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log(`${GENERATED_FILES.length} generated file(s) up to date`);
    return;
  }
  for (const e of GENERATED_FILES) {
    const file = path.join(REPO_ROOT, e.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, e.render());
    console.log(`wrote ${e.path}`);
  }
}

if (require.main === module) main();
