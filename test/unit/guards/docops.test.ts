import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultConfig, type FactoryConfig } from '../../../src/core/config/schema';
import { HostRunner } from '../../../src/core/gate/host-runner';
import { scanForbiddenTokens } from '../../../src/core/guards/docops-tokens';
import { runDocOps } from '../../../src/core/guards/run-docops';
import { checkSsotDocs } from '../../../src/core/guards/ssot-docs';
import { requireCorpus } from '../../support/engines';

const EXAMPLE = path.resolve(__dirname, '../../../examples/demo-project');

describe('DocOps guards', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docops-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    fs.writeFileSync(path.join(tmp, rel), text);
  };
  const cfg = (patch: Partial<FactoryConfig['docops']>): FactoryConfig['docops'] => ({ ...defaultConfig().docops, ...patch });

  it('DocOps Token (strict): every hit fails with file, line and column; the allowlist tolerates paths', () => {
    write('docs/a.md', '# A\nall good\nthis is TBD for now\n');
    write('docs/legacy/old.md', 'TBD everywhere\n');
    write('notes.txt', 'TBD but not a markdown file\n');
    write('node_modules/x/README.md', 'TBD\n');
    const r = scanForbiddenTokens(tmp, cfg({ forbiddenTokens: ['TBD', '임시'], allowlist: ['docs/legacy/**'], strict: true }));
    assert.equal(r.status, 'FAIL');
    assert.deepEqual(r.findings.map((f) => `${f.file}:${f.line}:${f.severity}`), ['docs/a.md:3:error']);
    assert.match(r.findings[0].message, /forbidden token "TBD" at column 9/);
  });

  it('DocOps Token (not strict) warns instead of failing; no tokens configured passes', () => {
    write('README.md', '임시 workaround\n');
    const r = scanForbiddenTokens(tmp, cfg({ forbiddenTokens: ['임시'], strict: false }));
    assert.equal(r.status, 'WARN');
    assert.equal(r.findings[0].severity, 'warning');
    assert.equal(scanForbiddenTokens(tmp, cfg({})).status, 'PASS');
  });

  it("DocOps Token does not read the Controller's records: a FAIL run's evidence and logs/autopilot quote tokens, a PASS run's evidence is checked", async () => {
    const config = defaultConfig();
    config.docops = cfg({ forbiddenTokens: ['DO-NOT-SHIP'], strict: true });
    const run = (id: string, status: string) => {
      write(`${config.paths.evidence}/${id}/manifest.json`, JSON.stringify({ status, ticket_id: 'D201' }));
      write(`${config.paths.evidence}/${id}/README.md`, `# ${id}\nDocOps FAIL: forbidden token "DO-NOT-SHIP"\n`);
    };
    run('20261206_010000_d201_abc1234', 'FAIL');
    run('20261206_020000_d201_abc1234', 'ABORTED');
    write(`${config.paths.autopilot}/audits/a.md`, 'DO-NOT-SHIP quoted by the Auditor\n');
    write('docs/a.md', '# clean\n');
    const tokens = (await runDocOps({ root: tmp, config })).guards.find((g) => g.name === 'DocOps Token');
    assert.equal(tokens?.status, 'PASS', JSON.stringify(tokens?.findings));
    run('20261206_030000_d201_abc1234', 'PASS');
    const again = (await runDocOps({ root: tmp, config })).guards.find((g) => g.name === 'DocOps Token');
    assert.equal(again?.status, 'FAIL');
    assert.deepEqual(again?.findings.map((f) => f.file), [`${config.paths.evidence}/20261206_030000_d201_abc1234/README.md`]);
  });

  it('SSOT Docs passes on the example and fails on a ledger with a duplicated AC row, pointing at its line', async () => {
    const ok = await checkSsotDocs(EXAMPLE, defaultConfig());
    assert.notEqual(ok.status, 'FAIL', JSON.stringify(ok.findings));
    fs.cpSync(EXAMPLE, tmp, { recursive: true, filter: (s) => !/[/\\]logs$/.test(s) });
    const ledger = path.join(tmp, 'docs/v2/design/AC_LEDGER.md');
    const lines = fs.readFileSync(ledger, 'utf8').split('\n');
    const row = lines.findIndex((l) => /^\|\s*D201::AC-2\s*\|/.test(l));
    assert.ok(row > 0, 'the example ledger has a D201::AC-2 row');
    lines.splice(row + 1, 0, lines[row]);
    fs.writeFileSync(ledger, lines.join('\n'));
    const bad = await checkSsotDocs(tmp, defaultConfig());
    assert.equal(bad.status, 'FAIL');
    assert.ok(bad.findings.some((f) => f.code === 'ssot.duplicate-ac' && f.file?.endsWith('AC_LEDGER.md') === true && f.line === row + 2), JSON.stringify(bad.findings));
  });

  it('SSOT Docs on the real arbitrage-bot corpus: warnings with file and line, no failure', async function () {
    const corpus = requireCorpus(this);
    const config = defaultConfig();
    config.ssot.extraRoadmaps = ['docs/v2/ROADMAP_V2.md'];
    const r = await checkSsotDocs(corpus, config);
    assert.equal(r.status, 'WARN');
    assert.ok(r.findings.length > 0);
    for (const f of r.findings) {
      assert.equal(f.severity, 'warning');
      assert.ok(f.file && fs.existsSync(path.join(corpus, f.file)) && (f.line ?? 0) > 0, JSON.stringify(f));
    }
    assert.ok(r.findings.some((f) => f.code === 'ssot.duplicate-ac' && f.file === 'docs/v2/ROADMAP_V2.md'));
  });

  it('SSOT Docs fails when there are no SSOT documents at all', async () => {
    const r = await checkSsotDocs(tmp, defaultConfig());
    assert.equal(r.status, 'FAIL');
    assert.match(r.findings[0].message, /no SSOT documents/);
  });

  it('factory docops runs every guard (no fail-fast) and fails if any fails, including docops scripts', async () => {
    fs.cpSync(EXAMPLE, tmp, { recursive: true, filter: (s) => !/[/\\]logs$/.test(s) });
    write('docs/note.md', 'FIXME\n');
    const config = defaultConfig();
    config.docops.forbiddenTokens = ['FIXME'];
    config.guards = [
      { name: 'Custom docs check', command: [process.execPath, '-e', 'process.exit(1)'], timeoutSeconds: 10, kind: 'docops' },
      { name: 'Welding', command: [process.execPath, '-e', 'process.exit(1)'], timeoutSeconds: 10, kind: 'preflight' },
    ];
    const report = await runDocOps({ root: tmp, config, runner: new HostRunner({ cwd: tmp }) });
    assert.equal(report.status, 'FAIL');
    assert.deepEqual(report.guards.map((g) => `${g.name}:${g.status}`), ['SSOT Docs:PASS', 'DocOps Token:FAIL', 'Custom docs check:FAIL']);
  });
});
