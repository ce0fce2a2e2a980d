import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../../src/core/config/load';
import { defaultConfig } from '../../../src/core/config/schema';
import { formatDryRun, type DryRun } from '../../../src/core/cycle/dry-run';
import { assertGateCommands, commandFile, gateConfigErrors, missingCommands } from '../../../src/core/gate/command-check';
import { FactoryError } from '../../../src/core/util/errors';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

describe('command-check: which repo file a configured command depends on', () => {
  const table: [string[], string | null][] = [
    [['python3', 'scripts/check_x.py'], 'scripts/check_x.py'],
    [['python3', '-u', 'scripts/check_x.py', '--strict'], 'scripts/check_x.py'],
    [['python3', '-W', 'ignore', 'guard.py'], 'guard.py'],
    [['python', '-m', 'pytest', '-q'], null],
    [['python3', '-c', 'print(1)'], null],
    [['node', 'tools/check.js'], 'tools/check.js'],
    [['node', '--import', 'tsx', 'tools/check.ts'], 'tools/check.ts'],
    [['node', '-e', 'process.exit(0)'], null],
    [['bash', 'ci/test.sh'], 'ci/test.sh'],
    [['bash', '-euc', 'make test'], null],
    [['sh', '-c', 'exit 0'], null],
    [['tests/run.sh'], 'tests/run.sh'],
    [['./gradlew', 'test'], './gradlew'],
    [['/usr/bin/python3', 'x.py'], null],
    [['python3', '/opt/tools/x.py'], null],
    [['npm', 'test'], null],
    [['go', 'test', './...'], null],
    [['make', 'test'], null],
    [['python3'], null],
  ];
  for (const [argv, file] of table) {
    it(`${argv.join(' ')} → ${file ?? 'nothing checkable (PATH program)'}`, () => assert.equal(commandFile(argv), file));
  }
});

describe('command-check: missing stage and guard commands are configuration errors', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-cmdcheck-'));
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.writeFileSync(path.join(root, 'scripts/present.py'), 'print(1)\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const config = (guards: string[][], stages: string[][]) => {
    const c = defaultConfig();
    return {
      gate: { ...c.gate, stages: stages.map((command, i) => ({ name: `s${i}`, command, timeoutSeconds: 60 })) },
      guards: guards.map((command, i) => ({ name: `g${i}`, command, timeoutSeconds: 60, kind: 'preflight' as const })),
    };
  };

  it('names the config key and the file of each missing script; present scripts and PATH programs pass', () => {
    const c = config([['python3', 'scripts/present.py'], ['python3', 'scripts/gone.py']], [['python3', '-m', 'pytest'], ['tests/run.sh']]);
    assert.deepEqual(missingCommands(root, c), [
      { key: 'guards[1].command', file: 'scripts/gone.py', message: 'guards[1].command: scripts/gone.py does not exist in the repository' },
      { key: 'gate.stages[1].command', file: 'tests/run.sh', message: 'gate.stages[1].command: tests/run.sh does not exist in the repository' },
    ]);
  });

  it('a script path that leaves the repository is an error too', () => {
    const outside = path.join(path.dirname(root), `${path.basename(root)}-sibling.py`);
    fs.writeFileSync(outside, 'x\n');
    try {
      const c = config([['python3', `../${path.basename(outside)}`]], [['npm', 'test']]);
      assert.match(gateConfigErrors(root, c).join('\n'), /^guards\[0\]\.command: \.\.\/.*-sibling\.py is outside the repository$/);
    } finally {
      fs.rmSync(outside);
    }
  });

  it('no stage at all is an error (the Gate would verify nothing); a clean config has none', () => {
    assert.deepEqual(gateConfigErrors(root, config([], [])), ['gate.stages: no stage is configured, so the Gate would verify nothing; add the project\'s test commands']);
    assert.deepEqual(gateConfigErrors(root, config([['python3', 'scripts/present.py']], [['npm', 'test']])), []);
  });

  it('assertGateCommands throws config.command-missing (exit 2) naming every key; passes a clean config', () => {
    assert.throws(
      () => assertGateCommands(root, config([['bash', 'a.sh']], [['bin/b']])),
      (e: unknown) => e instanceof FactoryError && e.code === 'config.command-missing' && e.exitCode === 2 && /guards\[0\]\.command: a\.sh does not exist.*gate\.stages\[0\]\.command: bin\/b does not exist/.test(e.message),
    );
    assert.doesNotThrow(() => assertGateCommands(root, config([], [['npm', 'test']])));
  });

  it('the demo project (default guards python3 scripts/check_*.py, pytest stages) has no configuration error', async () => {
    const demo = path.join(REPO_ROOT, 'examples', 'demo-project');
    const { config: c } = await loadConfig(demo);
    assert.ok(c.guards.length >= 2, 'the demo runs the spec guards');
    assert.deepEqual(gateConfigErrors(demo, c), []);
  });

  it('the default config on a repository without the spec guard scripts names both guards', () => {
    const errors = gateConfigErrors(root, defaultConfig());
    assert.deepEqual(errors, [
      'guards[0].command: scripts/check_no_duplicate_pnl.py does not exist in the repository',
      'guards[1].command: scripts/check_engine_centricity.py does not exist in the repository',
    ]);
  });
});

describe('formatDryRun shows configuration errors first', () => {
  it('prints each error with its key and says factory run refuses', () => {
    const d = {
      plan: { ticket_id: 'D1', ac_ids: ['D1::AC-1'], run_id: 'r', risk_level: 'LOW', model_budget: 'economy', scope: { modify: [], readonly: [], forbidden: [] }, agent: 'replay' },
      risk: { level: 'LOW', reasons: [], auditorRequired: false, why: [] },
      baseCommit: null,
      killSwitches: { budgetUsd: 1, timeMinutes: 30, maxRetries: 3, escalateAfterFails: 2, attempts: 0, consecutiveFails: 0 },
      auditor: { called: false, why: null, agent: null, model: null, tier: null, reserveUsd: null },
      worker: { image: 'i', user: 'u', network: 'none', limits: { memoryMb: 1, cpus: 1, pidsLimit: 1, tmpfsMb: 1, workspaceMb: 1, timeMinutes: 1 }, mounts: [] },
      gate: { runIn: 'container', guards: [], stages: [] },
      adjust: { commit: true, push: false, writes: [] },
      configErrors: ['gate.stages[1].command: tests/run.sh does not exist in the repository'],
    } as unknown as DryRun;
    const lines = formatDryRun(d).split('\n');
    assert.equal(lines[1], 'CONFIG ERROR  gate.stages[1].command: tests/run.sh does not exist in the repository');
    assert.match(lines[2], /`factory run` refuses to start/);
    assert.ok(!formatDryRun({ ...d, configErrors: [] }).includes('CONFIG ERROR'));
  });
});
