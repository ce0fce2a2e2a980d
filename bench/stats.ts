/** Small helpers shared by the benchmarks: time a function N times and summarise. */
import { performance } from 'node:perf_hooks';

export interface Timing {
  median: number;
  p90: number;
  min: number;
  runs: number;
}

export function summarize(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), min: s[0] ?? NaN, runs: s.length };
}

/** Run `fn` `warmup` times unmeasured, then `runs` times; milliseconds. */
export async function time(fn: () => unknown, runs = 20, warmup = 3): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples);
}

export function fmt(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** One printed line: `label  median (p90)  [vs baseline: ratio×]  goal`. */
export function line(label: string, t: Timing, baseline?: Timing, goal?: string): void {
  const ratio = baseline ? `  ratio ${(t.median / baseline.median).toFixed(2)}× vs baseline ${fmt(baseline.median)}` : '';
  console.log(`${label.padEnd(48)} median ${fmt(t.median)} (p90 ${fmt(t.p90)}, n=${t.runs})${ratio}${goal ? `  [goal: ${goal}]` : ''}`);
}
