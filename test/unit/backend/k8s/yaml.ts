/**
 * A minimal YAML writer for JSON data (docs/scale.md's example): block style, every string
 * double-quoted as JSON writes it (a JSON string is a YAML double-quoted scalar), so nothing is
 * ever read back as a number, a boolean or null by mistake.
 */
type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function key(k: string): string {
  return PLAIN_KEY.test(k) && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(k) ? k : JSON.stringify(k);
}

function scalar(v: Json): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (!Array.isArray(v) && Object.keys(v).length === 0) return '{}';
  return undefined;
}

function lines(v: Json, indent: string): string[] {
  const out: string[] = [];
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = scalar(item);
      if (s !== undefined) out.push(`${indent}- ${s}`);
      else {
        const inner = lines(item, `${indent}  `);
        out.push(`${indent}- ${inner[0].trimStart()}`, ...inner.slice(1));
      }
    }
    return out;
  }
  for (const [k, item] of Object.entries(v as Record<string, Json>)) {
    const s = scalar(item);
    if (s !== undefined) out.push(`${indent}${key(k)}: ${s}`);
    else out.push(`${indent}${key(k)}:`, ...lines(item, Array.isArray(item) ? indent : `${indent}  `));
  }
  return out;
}

/** One YAML document per value, separated by `---`. */
export function toYaml(docs: unknown[]): string {
  return docs.map((d) => lines(JSON.parse(JSON.stringify(d)) as Json, '').join('\n')).join('\n---\n') + '\n';
}
