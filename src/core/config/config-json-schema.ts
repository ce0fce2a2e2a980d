import { jsonSchemaText } from './json-schema';
import { configSchema } from './schema';

/** File name of the config schema, under schemas/ in this repo and next to a scaffolded config. */
export const CONFIG_SCHEMA_FILE = 'config.schema.json';

/** The JSON Schema of `.factory/config.json`, generated from the zod schema (never hand-edited). */
export function configJsonSchemaText(): string {
  return jsonSchemaText(configSchema, {
    title: 'Agentic Factory project config (.factory/config.json)',
    description:
      'Every key is optional; the defaults are the layout and kill switches of the Agentic Factory workflow spec.',
  });
}
