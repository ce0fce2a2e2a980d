import { z } from 'zod';

/**
 * JSON Schema text for a zod schema, as committed under schemas/ and written by `factory init`.
 * `io: 'input'` describes what a person writes (every defaulted key optional, defaults shown in
 * completion); draft-07 is the dialect VS Code's JSON language service understands best.
 */
export function jsonSchemaText(schema: z.core.$ZodType, meta: { title: string; description?: string }): string {
  const generated = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  // Put the identifying keys first so the committed file reads well and diffs stay small.
  const { $schema, ...rest } = generated;
  const ordered = { $schema, title: meta.title, ...(meta.description ? { description: meta.description } : {}), ...rest };
  return JSON.stringify(ordered, null, 2) + '\n';
}
