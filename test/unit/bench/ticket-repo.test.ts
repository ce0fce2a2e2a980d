import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigStrict } from '../../../src/core/config/load';
import { indexWorkspace } from '../../../src/core/ssot/workspace';
import { replayFileSchema } from '../../../src/core/agents/replay';
import { ticketIds, ticketRecordings, ticketRepoFiles, ticketScope } from '../../../bench/support/ticket-repo';

/** The parallel bench's workload generator (bench/support/ticket-repo.ts) keeps its promises. */
describe('parallel bench workload (bench/support/ticket-repo.ts)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ticket-repo-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('16 tickets: the config loads, the SSOT indexes to 16 tickets with one OPEN AC each, scopes pairwise disjoint', async () => {
    const files = ticketRepoFiles({ tickets: 16, upstream: 'http://127.0.0.1:9' });
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), content);
    }
    const { config } = await loadConfigStrict(tmp);
    assert.equal(config.gateway.upstreams.openai, 'http://127.0.0.1:9');
    const index = await indexWorkspace(tmp, config);
    assert.deepEqual(index.diagnostics.filter((d) => d.severity === 'error'), []);
    const ids = ticketIds(16);
    assert.deepEqual(index.tickets.map((t) => t.id), ids);
    assert.deepEqual(index.ledger.map((a) => `${a.id}:${a.status}`), ids.map((id) => `${id}::AC-1:OPEN`));
    const scopes = config.scope.tickets.map((t) => t.modify ?? []);
    assert.equal(scopes.length, 16);
    const all = scopes.flat();
    assert.equal(new Set(all).size, all.length, 'no file in two tickets\' modify scopes');
    assert.ok(all.every((f) => !f.includes('*')), 'literal paths, no globs that could overlap');
  });

  it('each recording makes its calls first, then edits only its own two files, and the edit applies to the generated module', () => {
    const files = ticketRepoFiles({ tickets: 3, upstream: 'http://127.0.0.1:9' });
    const recs = ticketRecordings({ tickets: 3, calls: 4 });
    assert.deepEqual(Object.keys(recs), ticketIds(3));
    for (const [id, rec] of Object.entries(recs)) {
      replayFileSchema.parse(rec);
      const ops = rec.steps.map((s) => s.op);
      assert.deepEqual(ops, ['call', 'call', 'call', 'call', 'replace', 'append']);
      const { module, test } = ticketScope(id);
      const edits = rec.steps.filter((s) => s.op === 'replace' || s.op === 'append');
      assert.deepEqual(edits.map((s) => ('path' in s ? s.path : '')), [module, test]);
      const replace = rec.steps.find((s) => s.op === 'replace');
      assert.ok(replace && files[module]?.includes(replace.find), `${id}: the replace finds its text`);
      const append = rec.steps.find((s) => s.op === 'append');
      assert.match(append && 'content' in append ? append.content : '', new RegExp(`# ${id}::AC-1`));
    }
  });

  it('refuses a ticket count the id scheme cannot hold', () => {
    assert.throws(() => ticketIds(0), /1 … 99/);
    assert.throws(() => ticketIds(100), /1 … 99/);
  });
});
