/**
 * One traced cycle (not a benchmark): every log line and cycle event with its time since the
 * start, to see where the Controller's own time goes. `node --import tsx bench/trace-cycle.ts [files]`
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from 'node:inspector/promises';
import { runCycle } from '../src/core/cycle/orchestrator';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLE = path.join(ROOT, 'examples', 'demo-project');
const REPLAYS = path.join(EXAMPLE, 'replays');

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 10_000);
  const repo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-trace-')), 'demo');
  fs.cpSync(EXAMPLE, repo, { recursive: true, filter: (s) => !s.startsWith(REPLAYS) });
  for (let i = 0; i < files; i++) {
    const dir = path.join(repo, 'data', String(Math.floor(i / 500)).padStart(3, '0'));
    if (i % 500 === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}.txt`), `row ${i}\n`);
  }
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@localhost', '-C', repo, ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  git('repack', '-adq');
  execFileSync('sync');
  // FACTORY_TRACE_PROFILE=out.cpuprofile: a CPU profile of the cycle alone (open it in DevTools).
  const profile = process.env.FACTORY_TRACE_PROFILE;
  const session = profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const t0 = Date.now();
  const at = () => String(Date.now() - t0).padStart(6);
  const say = (lvl: string) => (m: unknown) => console.log(`${at()} ms ${lvl} ${String(m instanceof Error ? m.message : m).slice(0, 160)}`);
  try {
    const o = await runCycle(
      { root: repo, agent: 'replay', replayDir: REPLAYS },
      {
        logger: { trace: say('trace'), debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') },
        onEvent: (e) => {
          if (e.type !== 'output') console.log(`${at()} ms event ${e.type}${'phase' in e ? ` ${String((e as { phase?: string }).phase)}` : ''}`);
        },
      },
    );
    if (session && profile) fs.writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
    console.log(JSON.stringify({ status: o.status, timings: o.timings }, null, 1));
  } finally {
    fs.rmSync(path.dirname(repo), { recursive: true, force: true });
  }
}
void main();
