import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { swarmCapacity } from '../../../src/core/backend/swarm/swarm-check';
import { runCycle } from '../../../src/core/cycle/orchestrator';
import { runFactory } from '../../../src/core/cycle/parallel/run-factory';
import { LABELS, ownerTag } from '../../../src/core/sandbox/container-spec';
import type { Logger } from '../../../src/core/util/log';
import { requireDocker } from '../../support/engines';
import { REPLAYS, build, cleanup, exampleRepo, git, treeDigest } from '../cycle/helpers';
import { ensureSwarm, type TestSwarm } from './swarm-helpers';

/**
 * Issue 19's Done-when on a real single-node swarm: a full cycle of the example with
 * `engine.backend: "swarm"` — the Worker and every Gate step run as swarm jobs behind the run's
 * relay — PASS committed; a scope violation FAILed with nothing applied, by a Worker that also
 * tries the internet (unreachable) and the relay without its token (401); and after each run no
 * service, network or secret of this process is left on the swarm, nor the run folder.
 */

/** A Worker that probes its network, then writes the findings out of D201's scope (engine/probe.txt). */
const PROBE = `
import socket, concurrent.futures
out = []
try:
    socket.create_connection(("1.1.1.1", 80), timeout=5).close()
    out.append("NET connected")
except OSError as e:
    out.append("NET unreachable %s" % (e,))
me = socket.gethostbyname(socket.gethostname())
base = me.rsplit(".", 1)[0]
def probe(ip):
    try:
        s = socket.create_connection((ip, 8080), timeout=1)
    except OSError:
        return None
    s.sendall(b"GET /jobs/probe-job/bundle HTTP/1.0\\r\\nHost: relay\\r\\n\\r\\n")
    data = s.recv(200).decode("latin-1")
    s.close()
    return "RELAY %s %s" % (ip, data.split("\\r\\n")[0])
ips = ["%s.%d" % (base, i) for i in range(1, 255) if "%s.%d" % (base, i) != me]
with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
    out += [r for r in pool.map(probe, ips) if r]
open("engine/probe.txt", "w").write("\\n".join(out) + "\\n")
`;

function swarmRepo(patch: (c: Record<string, Record<string, unknown>>) => void = () => undefined): string {
  const repo = exampleRepo();
  const file = path.join(repo, '.factory', 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  c.engine = { backend: 'swarm' };
  patch(c);
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + '\n');
  git(repo, 'commit', '-qam', 'swarm backend');
  return repo;
}

/** The swarm objects this process owns (services, networks, secrets), and its run folders. */
function leftovers(): string[] {
  const filter = `label=${LABELS.owner}=${ownerTag()}`;
  const ls = (kind: string) => execFileSync('docker', [kind, 'ls', '-q', '--filter', filter], { encoding: 'utf8', timeout: 30_000 }).split('\n').filter(Boolean).map((id) => `${kind} ${id}`);
  const dirs = fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`factory-relay-run-${process.pid}-`));
  return [...ls('service'), ...ls('network'), ...ls('secret'), ...dirs];
}

/** What is left once the swarm settled: a removed overlay network leaves the node's list a moment after the manager removed it. */
async function settledLeftovers(): Promise<string[]> {
  let left = leftovers();
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    left = leftovers();
  }
  return left;
}

function capture(lines: string[]): Logger {
  const push = (m: unknown) => void lines.push(String(m));
  return { trace: () => undefined, debug: push, info: push, warn: push, error: push };
}

describe('swarm backend: full cycles of the example as swarm jobs behind the relay', function () {
  this.timeout(900_000);
  let swarm: TestSwarm | undefined;
  before(async function () {
    requireDocker(this);
    swarm = await ensureSwarm(this);
    build(); // dist/worker.js, dist/relay.js, dist/swarm-boot.js
  });
  after(async () => {
    cleanup();
    await swarm?.leave();
  });

  it('PASS (factory run, N from the swarm\'s capacity): the Worker and Gate ran on the swarm, the change is applied and committed, nothing of the run is left', async () => {
    const repo = swarmRepo();
    const base = git(repo, 'rev-parse', 'HEAD').trim();
    const lines: string[] = [];
    const since = Math.floor(Date.now() / 1000) - 1;
    // `factory run` with no --parallel: N is the swarm's capacity (issue 19 item 4); one cycle is asked for.
    const r = await runFactory({ root: repo, agent: 'replay', replayDir: REPLAYS, maxCycles: 1 }, { logger: capture(lines), onEvent: (e) => e.type === 'output' && lines.push(e.text) });
    assert.equal(r.outcomes.length, 1);
    const o = r.outcomes[0];
    assert.equal(o.status, 'PASS', `${o.reasons.join('; ')}\n${lines.join('\n')}`);
    const capacity = await swarmCapacity(new Docker(), { memoryMb: 1024, cpus: 1 });
    if (capacity > 1) assert.ok(lines.includes(`${Math.min(16, capacity)} cycles in flight at once: the swarm backend's capacity`), lines.join('\n'));
    assert.equal(o.ticketId, 'D201');
    assert.deepEqual(o.changes.map((c) => c.path).sort(), ['engine/pricing.py', 'tests/test_pricing.py']);
    assert.equal(git(repo, 'rev-list', '--count', `${base}..HEAD`).trim(), '1');
    assert.match(fs.readFileSync(path.join(repo, 'engine/pricing.py'), 'utf8'), /MAX_SPREAD_BPS = 20_000/);
    assert.ok(lines.some((l) => /relay factory-relay-\S+ ready on the run network/.test(l)), 'the run started its relay on the swarm');
    // The Worker and the CHECK Gate's steps were swarm jobs (services `factory-<run>-w<n>-…`, `…-g<n>-…`).
    const created = execFileSync('docker', ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=service', '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}'], { encoding: 'utf8', timeout: 30_000 });
    assert.match(created, /^factory-run-\S+-w1-[0-9a-f]+$/m, created);
    assert.match(created, /^factory-run-\S+-g\d+-[0-9a-f]+$/m, created);
    assert.deepEqual(await settledLeftovers(), [], 'no service, network, secret or run folder left');
  });

  it('SEC-02 SEC-11 on swarm: a scope violation FAILs with nothing applied; the Worker reaches neither the internet nor, without its token, the relay', async () => {
    const repo = swarmRepo((c) => {
      c.agents = { ...(c.agents ?? {}), custom: { command: ['python3', '-c', PROBE] } };
    });
    const before = treeDigest(repo);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const lines: string[] = [];
    const o = await runCycle({ root: repo, agent: 'custom' }, { logger: capture(lines), onEvent: (e) => e.type === 'output' && lines.push(e.text) });
    assert.equal(o.status, 'FAIL', o.reasons.join('; '));
    assert.deepEqual(o.violations.map((v) => [v.path, v.rule]), [['engine/probe.txt', 'out-of-scope']], lines.join('\n'));
    assert.equal(treeDigest(repo), before, 'host tree byte-identical');
    assert.equal(git(repo, 'rev-parse', 'HEAD').trim(), head, 'no commit');
    assert.ok(o.stagingKept, 'the staging copy is kept');
    const probe = fs.readFileSync(path.join(o.stagingKept, 'workspace', 'engine', 'probe.txt'), 'utf8');
    assert.match(probe, /^NET unreachable .*(unreachable|timed out|Errno)/m, probe);
    const relays = probe.split('\n').filter((l) => l.startsWith('RELAY '));
    assert.ok(relays.length >= 1, `the Worker found the relay on its network:\n${probe}`);
    for (const r of relays) assert.match(r, /HTTP\/1\.[01] 401/, `refused without the token: ${r}`);
    assert.deepEqual(await settledLeftovers(), [], 'no service, network, secret or run folder left');
  });
});
