/** What a guard found, pointing at a file and line where it can. */
export interface GuardFinding {
  /** Path relative to the workspace root, forward slashes. */
  file?: string;
  /** 1-based. */
  line?: number;
  severity: 'error' | 'warning';
  message: string;
  code?: string;
}

/** One guard's verdict. WARN: findings that do not fail (non-strict token scan, SSOT warnings). */
export interface GuardResult {
  name: string;
  /** `builtin`: computed by the Controller; `script`: the project's own guard command. */
  source: 'builtin' | 'script';
  status: 'PASS' | 'WARN' | 'FAIL' | 'ERROR' | 'TIMEOUT';
  findings: GuardFinding[];
  durationMs: number;
  argv?: string[];
  /** The tail of a script's output. */
  outputTail?: string;
}

/** `factory docops`: every docops guard; FAIL blocks the commit (spec §5-1). */
export interface DocOpsReport {
  status: 'PASS' | 'FAIL';
  guards: GuardResult[];
}
