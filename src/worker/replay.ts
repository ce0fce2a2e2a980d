import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { replayFileSchema, type ReplayStep } from '../core/agents/replay';
import { PLACEHOLDER_KEY } from '../core/agents/placeholder';
import { UsageMeter, type Provider } from '../core/gateway/usage';

const print = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

type CallStep = Extract<ReplayStep, { op: 'call' }>;

/** Stands for the routed model in a recording's `call` step (body values and the path). */
export const MODEL_PLACEHOLDER = '{{model}}';

function fill(value: unknown, model: string): unknown {
  if (typeof value === 'string') return value.split(MODEL_PLACEHOLDER).join(model);
  if (Array.isArray(value)) return value.map((v) => fill(v, model));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, model)]));
  return value;
}

/**
 * The call as made on the routed model (`FACTORY_REPLAY_MODEL`): every `{{model}}` in the body's
 * strings and in the path (Gemini names the model there) is replaced by it; a recording that names
 * a literal model is played as recorded. A placeholder with no routed model is an error.
 */
export function withModel(step: CallStep, model: string | undefined): CallStep {
  const uses = step.path.includes(MODEL_PLACEHOLDER) || JSON.stringify(step.body).includes(MODEL_PLACEHOLDER);
  if (!uses) return step;
  if (!model) throw new Error(`the recording's call names ${MODEL_PLACEHOLDER} but no model was routed to the replay agent`);
  return { ...step, path: step.path.split(MODEL_PLACEHOLDER).join(encodeURIComponent(model)), body: fill(step.body, model) as CallStep['body'] };
}

/** One model call through the shim, answered as a `call` line (status, usage read from the reply). */
async function call(base: string, step: CallStep): Promise<number> {
  const url = new URL(`/${step.provider}${step.path}`, base);
  const body = JSON.stringify(step.body);
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': PLACEHOLDER_KEY, authorization: `Bearer ${PLACEHOLDER_KEY}` } }, (res) => {
      const meter = new UsageMeter(step.provider as Provider, res.headers['content-type'], typeof step.body.model === 'string' ? step.body.model : undefined);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        meter.push(c);
        if (chunks.length < 64) chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const m = meter.finish();
        let error: string | undefined;
        if (status >= 400) {
          try {
            const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { message?: string } };
            error = j.error?.message;
          } catch {
            error = Buffer.concat(chunks).toString('utf8').slice(0, 300);
          }
        }
        print({ type: 'call', provider: step.provider, path: step.path, status, model: m.model, usage: m.found ? m.usage : undefined, ...(error ? { error } : {}) });
        resolve(status);
      });
    });
    req.on('error', (e) => {
      print({ type: 'call', provider: step.provider, path: step.path, status: 0, error: e.message });
      resolve(0);
    });
    req.end(body);
  });
}

/**
 * `worker.js replay FILE`: apply a recorded session step by step in the working directory,
 * printing one JSON line per step and a final `result` line. A model call answered with an error
 * ends the session (as a real agent gives up), exit 1.
 */
export async function runReplay(file: string): Promise<number> {
  const parsed = replayFileSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    print({ type: 'error', message: `replay file invalid: ${parsed.error.message}` });
    return 2;
  }
  const base = process.env.FACTORY_GATEWAY_URL ?? '';
  const cwd = process.cwd();
  let n = 0;
  for (const step of parsed.data.steps) {
    n++;
    // Deliberately unconfined (see ReplayStep): a recording may play a hostile Worker.
    const p = 'path' in step ? path.resolve(cwd, step.path) : '';
    try {
      switch (step.op) {
        case 'write':
          fs.mkdirSync(path.dirname(p), { recursive: true });
          fs.writeFileSync(p, step.content);
          break;
        case 'append':
          fs.appendFileSync(p, step.content);
          break;
        case 'replace': {
          const text = fs.readFileSync(p, 'utf8');
          if (!text.includes(step.find)) throw new Error(`text to replace not found in ${step.path}`);
          fs.writeFileSync(p, text.replace(step.find, step.replace));
          break;
        }
        case 'delete':
          fs.rmSync(p, { recursive: true, force: true });
          break;
        case 'mkdir':
          fs.mkdirSync(p, { recursive: true });
          break;
        case 'symlink':
          fs.symlinkSync(step.target, p);
          break;
        case 'sleep':
          await new Promise((r) => setTimeout(r, step.ms));
          break;
        case 'exit':
          print({ type: 'result', steps: n, exitCode: step.code, finalText: parsed.data.finalText });
          return step.code;
        case 'call': {
          const status = await call(base, withModel(step, process.env.FACTORY_REPLAY_MODEL));
          if (status < 200 || status >= 300) {
            print({ type: 'result', steps: n, exitCode: 1, finalText: 'stopped: a model call failed' });
            return 1;
          }
          continue;
        }
      }
      print({ type: 'step', n, op: step.op, path: 'path' in step ? step.path : undefined });
    } catch (err) {
      print({ type: 'error', n, op: step.op, message: err instanceof Error ? err.message : String(err) });
      print({ type: 'result', steps: n, exitCode: 1 });
      return 1;
    }
  }
  print({ type: 'result', steps: n, exitCode: 0, finalText: parsed.data.finalText });
  return 0;
}
