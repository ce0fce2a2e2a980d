// The demo's model calls: examples/demo-project/replays/model-calls.json lists, per recording
// (<TICKET> for the Worker, <TICKET>.audit for the Auditor), the `call` steps the replay agent
// makes through the real gateway before its recorded edits. Shared by scripts/demo.mjs (which
// writes the metered recordings and scripts the provider) and bench/cost.bench.ts (which prices
// the same usage under the routing table and on the premium route).
import fs from 'node:fs';
import path from 'node:path';

export const CALLS_FILE = 'model-calls.json';

/** `{ recording name → call steps }` from `<replaysDir>/model-calls.json`. */
export function readModelCalls(replaysDir) {
  const doc = JSON.parse(fs.readFileSync(path.join(replaysDir, CALLS_FILE), 'utf8'));
  return doc.calls ?? {};
}

/** The token usage a call asks the scripted provider to report: `body.scripted_usage`. */
export function scriptedUsage(body) {
  const u = body && typeof body === 'object' ? body.scripted_usage : undefined;
  const n = (v) => (Number.isInteger(v) && v >= 0 ? v : 0);
  return { input: n(u?.input), output: n(u?.output) };
}

/**
 * Copy every recording of `replaysDir` to `outDir` with its model calls first. Returns the names
 * written. A recording without calls is copied as it is.
 */
export function writeMeteredRecordings(replaysDir, outDir) {
  const calls = readModelCalls(replaysDir);
  fs.mkdirSync(outDir, { recursive: true });
  const names = [];
  for (const f of fs.readdirSync(replaysDir)) {
    if (!f.endsWith('.json') || f === CALLS_FILE) continue;
    const name = f.slice(0, -'.json'.length);
    const rec = JSON.parse(fs.readFileSync(path.join(replaysDir, f), 'utf8'));
    rec.steps = [...(calls[name] ?? []), ...rec.steps];
    fs.writeFileSync(path.join(outDir, f), JSON.stringify(rec, null, 2) + '\n');
    names.push(name);
  }
  return names.sort();
}

/** The scripted provider's answer to a demo call: a short text and the recorded usage. */
export function demoTurn(req) {
  return { text: 'ok (scripted provider)', usage: scriptedUsage(req.body) };
}
