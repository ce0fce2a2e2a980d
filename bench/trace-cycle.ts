/**
 * One traced cycle (not a benchmark): every log line and cycle event with its time since the
 * start, to see where the Controller's own time goes. `node --import tsx bench/trace-cycle.ts [files]`
 * Like `npm run bench cycle`, the cycle skips the run's baseline (FACTORY_TRACE_BASELINE=1 runs it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector/promises';
import { runCycle } from '../src/core/cycle/orchestrator';
import { REPLAYS, makeRepo } from './cycle.bench';

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 10_000);
  const repo = makeRepo(files);
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
      { root: repo, agent: 'replay', replayDir: REPLAYS, ...(process.env.FACTORY_TRACE_BASELINE ? {} : { baseline: 'skip' as const }) },
      {
        logger: { trace: say('trace'), debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') },
        onEvent: (e) => {
          // FACTORY_TRACE_OUTPUT=1: the containers' own output too, line by line with its arrival time.
          if (e.type === 'output') {
            if (process.env.FACTORY_TRACE_OUTPUT) process.stdout.write(e.text.replace(/^(?=.)/gm, `${at()} ms output `));
          } else console.log(`${at()} ms event ${e.type}${'phase' in e ? ` ${String((e as { phase?: string }).phase)}` : ''}`);
        },
      },
    );
    console.log(`${at()} ms runCycle returned`);
    if (session && profile) fs.writeFileSync(profile, JSON.stringify((await session.post('Profiler.stop')).profile));
    console.log(JSON.stringify({ status: o.status, timings: o.timings }, null, 1));
  } finally {
    fs.rmSync(path.dirname(repo), { recursive: true, force: true });
  }
}
void main();
