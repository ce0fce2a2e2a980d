/**
 * The justfile `factory init` writes: the spec's command set (§8-1, §8-2) as `just` recipes, each
 * calling our CLI. The CLI invocation is one variable at the top, so it can point elsewhere:
 *   just factory="node /path/to/dist/cli.js" gate      (a command-line override)
 *   FACTORY="node /path/to/dist/cli.js" just gate       (the environment)
 */

/** The names `just` looks for (any case of the first letter, or hidden): init never overwrites one. */
export const JUSTFILE_NAMES = ['justfile', 'Justfile', '.justfile', 'JUSTFILE'] as const;

/** The recipes, in the spec's order: name (with its just parameters), the CLI arguments, what it does. */
export const JUST_RECIPES: readonly { recipe: string; args: string; doc: string }[] = [
  { recipe: 'gate STAGE=""', args: 'gate{{ if STAGE == "" { "" } else { " --stage " + quote(STAGE) } }}', doc: 'Gate: preflight guards, then doctor → fast → regression (or one stage: just gate fast)' },
  { recipe: 'docops', args: 'docops', doc: 'DocOps: SSOT invariants and the forbidden-token scan' },
  { recipe: 'evidence_check RUN=""', args: 'evidence-check{{ if RUN == "" { "" } else { " " + quote(RUN) } }}', doc: 'Evidence: validate a run folder (default: the newest)' },
  { recipe: 'doctor', args: 'gate --stage doctor', doc: 'Gate stage doctor only (after the guards)' },
  { recipe: 'fast', args: 'gate --stage fast', doc: 'Gate stage fast only (after the guards)' },
  { recipe: 'regression', args: 'gate --stage regression', doc: 'Gate stage regression only (after the guards)' },
  { recipe: 'factory_dry *ARGS', args: 'dry {{ARGS}}', doc: 'Factory dry run: the next cycle, nothing written or started (e.g. just factory_dry --ticket D101)' },
  { recipe: 'factory_run *ARGS', args: 'run {{ARGS}}', doc: 'Factory run: one PDCA cycle (e.g. just factory_run --ticket D101)' },
  { recipe: 'factory_status', args: 'status', doc: 'Factory status: progress, queue, cost' },
  { recipe: 'factory_audit TICKET', args: 'audit {{quote(TICKET)}}', doc: 'Auditor on a ticket\'s last cycle commit (manual)' },
];

/** The spec's recipe names, in the order above. */
export const JUST_RECIPE_NAMES: readonly string[] = JUST_RECIPES.map((r) => r.recipe.split(' ')[0]);

/**
 * The justfile text. Stages the config does not have (`stageNames`) are still offered as recipes
 * (the spec's set), with a comment: `factory gate --stage X` then names the configured stages.
 */
export function justfileText(stageNames: readonly string[]): string {
  const lines = [
    '# Agentic Factory commands (spec §8). Written by `factory init`; edit freely, init never overwrites it.',
    '# The CLI: override with  just factory="node /path/to/dist/cli.js" <recipe>  or  FACTORY=... just <recipe>',
    'factory := env_var_or_default("FACTORY", "factory")',
    '',
    '# List the recipes',
    'default:',
    '    @{{just_executable()}} --list',
  ];
  for (const r of JUST_RECIPES) {
    const name = r.recipe.split(' ')[0];
    const absent = ['doctor', 'fast', 'regression'].includes(name) && !stageNames.includes(name);
    lines.push('', `# ${r.doc}${absent ? ` (no "${name}" stage is configured yet: add one to gate.stages)` : ''}`, `${r.recipe}:`, `    {{factory}} ${r.args}`);
  }
  return lines.join('\n') + '\n';
}
