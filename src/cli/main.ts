import { Command } from 'commander';
import { register as registerDocops } from './commands/docops';
import { register as registerEvidenceCheck } from './commands/evidence-check';
import { register as registerGate } from './commands/gate';
import { register as registerInit } from './commands/init';
import { register as registerStatus } from './commands/status';
import { register as registerSandbox } from './commands/sandbox';
import { register as registerRun } from './commands/run';
import { register as registerPlan } from './commands/plan';
import { register as registerDry } from './commands/dry';
import { register as registerNext } from './commands/next';
import { register as registerStop } from './commands/stop';
import { register as registerTail } from './commands/tail';
import { register as registerAudit } from './commands/audit';
import { register as registerDoctor } from './commands/doctor';

/**
 * `factory` — the headless Controller. Each command lives in ./commands/<name>.ts and exports
 * `register(program)`; this file is only the table of contents.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('factory')
    .description('Agentic Factory Controller: plan, sandbox, verify, record.')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride((err) => {
      // Usage errors exit 2 (like the spec's "unreadable input"); --help/--version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  registerStatus(program);
  registerInit(program);
  registerGate(program);
  registerDocops(program);
  registerEvidenceCheck(program);
  registerSandbox(program);
  registerRun(program);
  registerPlan(program);
  registerDry(program);
  registerNext(program);
  registerStop(program);
  registerTail(program);
  registerAudit(program);
  registerDoctor(program);
  return program;
}

if (typeof module !== 'undefined' && require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err: unknown) => {
    process.stderr.write(`factory: ${String(err)}\n`);
    process.exit(1);
  });
}
