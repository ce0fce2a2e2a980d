import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { requireDocker } from '../../support/engines';
import { planSchema, type Plan } from '../../../src/core/contracts/plan';
import { readHistory } from '../../../src/core/history/history';
import { LABELS } from '../../../src/core/sandbox/container-spec';
import { runSandbox, type SandboxOptions, type SandboxReport } from '../../../src/core/sandbox/run-sandbox';
import { WORKER_IMAGE, assertHardened, ensureWorkerImage, hashTree, labelledContainers } from './helpers';
import { stagingDirsOf, stagingFreeBytes } from '../../support/staging';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let seq = 0;

/** A small git repository with tracked code, a read-only lib, SSOT docs and an ignored .env. */
function makeRepo(): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-adv-'));
  const files: Record<string, string> = {
    'src/a.py': 'a = 1\n',
    'src/b.py': 'b = 2\n',
    'lib/ro.py': 'RO = True\n',
    'docs/notes.md': '# notes\n',
    'D_ROADMAP.md': '# Roadmap\n',
    'setup.py': 'setup()\n',
    '.gitignore': '.env\nbuild/\n',
  };
  for (const [p, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(repo, p)), { recursive: true });
    fs.writeFileSync(path.join(repo, p), c);
  }
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'base');
  fs.writeFileSync(path.join(repo, '.env'), 'API_KEY=do-not-leak\n');
  fs.mkdirSync(path.join(repo, 'build'));
  fs.writeFileSync(path.join(repo, 'build', 'out.bin'), 'ignored build output\n');
  return repo;
}

function plan(over: Partial<Plan['scope']> = {}, timeoutMinutes = 2): Plan {
  return planSchema.parse({
    schema_version: 1,
    run_id: `adv_${process.pid}_${Date.now()}_${++seq}`,
    ticket_id: 'T-ADV',
    ac_ids: ['AC-1'],
    scope: { modify: ['src/**'], readonly: ['lib/**'], forbidden: ['D_ROADMAP.md', '.env'], ...over },
    done_criteria: 'adversarial',
    timeout_minutes: timeoutMinutes,
    model_budget: 'standard',
    risk_level: 'MED',
    agent: 'custom',
    created_at: new Date().toISOString(),
  });
}

describe('docker: adversarial Worker suite (each hostile script runs in a real container)', function () {
  const docker = new Docker();
  let repo: string;
  let hostHash: string;

  before(function () {
    requireDocker(this);
    ensureWorkerImage();
  });
  beforeEach(() => {
    repo = makeRepo();
    hostHash = hashTree(repo);
  });
  afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

  async function hostile(script: string, opts: Partial<SandboxOptions> = {}, p = plan()): Promise<SandboxReport> {
    const report = await runSandbox(
      { root: repo, plan: p, command: ['sh', '-c', script], image: WORKER_IMAGE, apply: true, limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 }, ...opts },
      { docker },
    );
    // No labelled container of this run survives, whatever happened.
    assert.deepEqual(await labelledContainers(docker, p.run_id), [], 'container removed');
    assert.deepEqual(stagingDirsOf(p.run_id), [], 'staging copy removed');
    return report;
  }
  const assertHostUntouched = () => assert.equal(hashTree(repo), hostHash, 'host tree (with .git, .env, ignored files) must be byte-identical');

  it('applies an in-scope change (the happy path the suite is measured against)', async () => {
    const r = await hostile('echo "a = 42" > src/a.py && echo new > src/c.py');
    assert.equal(r.status, 'PASS', r.reasons.join('; '));
    assert.equal(r.applied, true);
    assert.deepEqual(r.changeset, [{ path: 'src/a.py', kind: 'modified' }, { path: 'src/c.py', kind: 'added' }]);
    assert.equal(fs.readFileSync(path.join(repo, 'src/a.py'), 'utf8'), 'a = 42\n');
    assert.equal(fs.readFileSync(path.join(repo, '.env'), 'utf8'), 'API_KEY=do-not-leak\n');
  });

  it('SEC-01 the Worker container of a cycle is hardened and mounts no .git, engine socket or home', async () => {
    let info: Docker.ContainerInspectInfo | undefined;
    const p = plan();
    await runSandbox(
      { root: repo, plan: p, command: ['sleep', '1'], image: WORKER_IMAGE, limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 } },
      { docker, onStart: async (id) => void (info = await docker.getContainer(id).inspect()) },
    );
    assert.ok(info);
    // The whole profile with the limits asked for (the workspace cap, 1 GiB by default, is the file-size limit).
    assertHardened(info, { role: 'worker', runId: p.run_id, limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 }, fileSizeMb: 1024, owner: `${os.hostname()}:${process.pid}`, hostRoots: [repo] });
    assert.ok(info.Mounts.some((m) => m.Destination === '/factory/plan' && m.RW === false), 'plan.json read-only');
    assert.ok(info.Mounts.some((m) => m.Destination === '/workspace/lib' && m.RW === false), 'readonly overlay');
    assert.ok(info.Mounts.some((m) => m.Destination === '/workspace/D_ROADMAP.md' && m.RW === false), 'forbidden overlay');
    assertHostUntouched();
  });

  it('SEC-02 the Worker cannot open any TCP/UDP connection (not even to a host loopback listener); only lo exists', async () => {
    // The container's 127.0.0.1 is its own: a listener on the host's loopback must be unreachable.
    const server = net.createServer((s) => s.end('reached the host\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const r = await hostile(
      `python3 - <<'EOF'
import socket
ok = []
for addr in [("127.0.0.1", PORT), ("192.0.2.1", 80)]:
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect(addr); ok.append(addr)
    except OSError:
        pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"x", ("198.51.100.1", 53)); ok.append("udp")
except OSError:
    pass
open("src/result.txt", "w").write(repr(ok))
EOF
ip -o link | awk -F': ' '{print $2}' > src/links.txt`.replace('PORT', String(port)),
    ).finally(() => server.close());
    assert.equal(r.status, 'PASS', r.reasons.join('; '));
    assert.equal(fs.readFileSync(path.join(repo, 'src/result.txt'), 'utf8'), '[]');
    assert.equal(fs.readFileSync(path.join(repo, 'src/links.txt'), 'utf8').trim(), 'lo');
  });

  it('SEC-03 a fork bomb ends the cycle as FAIL, the host stays responsive, the container is removed', async () => {
    let maxLag = 0;
    let last = Date.now();
    const tick = setInterval(() => {
      const now = Date.now();
      maxLag = Math.max(maxLag, now - last - 50);
      last = now;
    }, 50);
    try {
      const r = await hostile('while :; do sleep 600 & done', { timeoutMs: 30_000 });
      assert.equal(r.status, 'FAIL', r.reasons.join('; '));
      assert.ok(r.exitCode !== 0);
      assert.ok(maxLag < 2_000, `host event loop stalled for ${maxLag} ms`);
      execFileSync('true', { timeout: 2_000 }); // the host can still fork
      assertHostUntouched();
    } finally {
      clearInterval(tick);
    }
  });

  it('SEC-04 writing past the tmpfs cap fails inside the container; host free space drops by at most the cap', async () => {
    const free = stagingFreeBytes;
    const start = free();
    let minFree = start;
    const poll = setInterval(() => (minFree = Math.min(minFree, free())), 20);
    try {
      const out: string[] = [];
      const p = plan();
      const r = await runSandbox(
        {
          root: repo,
          plan: p,
          image: WORKER_IMAGE,
          workspaceMb: 8,
          limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 },
          command: ['sh', '-c', 'for i in 1 2 3; do dd if=/dev/zero of=/tmp/fill$i bs=1M count=7 2>&1 | grep -o "No space left"; done; echo tmp_size=$(cat /tmp/fill* | wc -c); ' +
            '(dd if=/dev/zero of=src/big.bin bs=1M count=64 2>/dev/null); echo ws_rc=$?; echo ws_size=$(stat -c %s src/big.bin)'],
        },
        { docker, onOutput: (_s, c) => out.push(c.toString()) },
      );
      const text = out.join('');
      assert.match(text, /No space left/, text);
      assert.match(text, /ws_rc=(?!0\n)\d+/, text); // dd died on the file-size limit (SIGXFSZ)
      assert.ok(Number(/tmp_size=(\d+)/.exec(text)?.[1]) <= 16 * 1024 * 1024, text);
      assert.ok(Number(/ws_size=(\d+)/.exec(text)?.[1]) <= 8 * 1024 * 1024, text);
      const cap = 16 + 8; // tmpfs cap + workspace cap, MiB
      assert.ok(start - minFree <= (cap + 8) * 1024 * 1024, `host free space dropped by ${((start - minFree) / 1048576).toFixed(1)} MiB`);
      assert.ok(r.changeset.some((c) => c.path === 'src/big.bin'));
      assert.deepEqual(await labelledContainers(docker, p.run_id), []);
      assertHostUntouched();
    } finally {
      clearInterval(poll);
    }
  });

  it('SEC-04 a Worker filling the workspace with many files is stopped at the workspace cap', async () => {
    const free = stagingFreeBytes;
    const start = free();
    let minFree = start;
    const poll = setInterval(() => (minFree = Math.min(minFree, free())), 20);
    const r = await hostile('i=0; while :; do i=$((i+1)); head -c 1048576 /dev/zero > src/f$i.bin || exit 9; done', { workspaceMb: 16 }).finally(() => clearInterval(poll));
    const dropMb = (start - minFree) / 1048576;
    console.log(`      host free space dropped by at most ${dropMb.toFixed(1)} MiB (workspace cap 16 MiB)`);
    // The workspace cap is a host watchdog (a bind mount has no size limit): it may overshoot by
    // what the Worker writes in one polling interval; the kernel-enforced per-file cap bounds each file.
    // Measured 10–85 MiB on a loaded shared 2-core machine (other writers count too); a missing
    // watchdog would let it run to the 2-minute time cap (gigabytes).
    assert.ok(dropMb <= 16 + 128, `dropped ${dropMb.toFixed(1)} MiB`);
    assert.equal(r.status, 'FAIL');
    assert.ok(r.reasons.some((x) => /workspace size cap/.test(x)), r.reasons.join('; '));
    assertHostUntouched();
  });

  it('SEC-04 the output folder counts against the workspace cap: a Worker filling /factory/out is stopped too', async () => {
    // /factory/out (result.json) is a host folder next to the workspace, writable by the Worker.
    // 64 files of 1 MiB, then a normal exit: four times the 16 MiB allowance.
    const r = await hostile('i=0; while [ $i -lt 64 ]; do i=$((i+1)); head -c 1048576 /dev/zero > /factory/out/f$i.bin || exit 9; done; echo "a = 42" > src/a.py', { workspaceMb: 16 });
    assert.equal(r.status, 'FAIL', r.reasons.join('; '));
    assert.ok(r.reasons.some((x) => /workspace size cap/.test(x)), r.reasons.join('; '));
    assertHostUntouched();
  });

  it('SEC-05 a Worker that sleeps forever is killed at the time cap, removed, and recorded as TIMEOUT', async () => {
    const history = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-hist-')), 'history.jsonl');
    const t0 = Date.now();
    const p = plan();
    const r = await hostile('sleep infinity', { timeoutMs: 2_000, historyFile: history }, p);
    assert.equal(r.status, 'TIMEOUT');
    assert.ok(Date.now() - t0 < 2_000 + 10_000, `took ${Date.now() - t0} ms`);
    const h = readHistory(history);
    assert.deepEqual(h.problems, []);
    assert.deepEqual(h.records.map((x) => [x.runId, x.status]), [[p.run_id, 'TIMEOUT']]);
    fs.rmSync(path.dirname(history), { recursive: true, force: true });
    assertHostUntouched();
  });

  it('SEC-06 a limit the engine could not apply ends the sandbox run as ERROR before the Worker command runs; nothing applied', async function () {
    // On this cgroup-v1 kernel the engine discards BlkioWeight with a warning; where it applies it,
    // the run just passes and there is no real warning to provoke.
    const r = await hostile('echo started > src/a.py', { apply: false, limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16, blkioWeight: 300 } });
    if (r.status === 'PASS') {
      console.warn('  ! skipping SEC-06: the engine applied BlkioWeight without a warning');
      this.skip();
    }
    assert.equal(r.status, 'ERROR', r.reasons.join('; '));
    assert.match(r.reasons.join(' '), /could not apply every limit/);
    assert.deepEqual(r.changeset, [], 'the Worker command never ran');
    assert.equal(r.applied, false);
    assertHostUntouched();
  });

  it('SEC-07 after the Controller is killed mid-cycle the next start reaps its container and records ABORTED', async function () {
    this.timeout(120_000);
    const first = plan();
    const planFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'factory-sec07-')), 'plan.json');
    const history = path.join(path.dirname(planFile), 'history.jsonl');
    fs.writeFileSync(planFile, JSON.stringify(first));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'sandbox', '--root', repo, '--plan', planFile, '--image', WORKER_IMAGE, '--history', history, '--', 'sleep', '600'], { cwd: ROOT, stdio: 'ignore' });
    try {
      // Wait for the Worker container to be running, then kill the Controller without warning.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && (await labelledContainers(docker, first.run_id)).every((c) => c.State !== 'running')) await new Promise((r) => setTimeout(r, 200));
      assert.equal((await labelledContainers(docker, first.run_id)).length, 1, 'the first cycle started');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal((await labelledContainers(docker, first.run_id)).length, 1, 'an orphan is left behind');
      assert.equal(stagingDirsOf(first.run_id).length, 1, 'its staging copy too');

      // The dead Controller's repo lock goes stale after lockStaleMs (SEC-27); then the next one starts.
      await new Promise((r) => setTimeout(r, 2_500));
      // An orphan of ANOTHER repository's cycle: reaped too, but not recorded in this repo's history.
      const otherRun = `other_${first.run_id}`;
      await docker.createContainer({
        Image: WORKER_IMAGE,
        Cmd: ['true'],
        Labels: { [LABELS.managed]: '1', [LABELS.runId]: otherRun, [LABELS.ticket]: 'X', [LABELS.role]: 'worker', [LABELS.owner]: `${os.hostname()}:999999`, [LABELS.repo]: '/srv/another-repo' },
        HostConfig: { NetworkMode: 'none' },
      });
      const second = plan();
      const r = await runSandbox({ root: repo, plan: second, command: ['true'], image: WORKER_IMAGE, historyFile: history, lockStaleMs: 2_000 }, { docker });
      assert.deepEqual(await labelledContainers(docker, first.run_id), []);
      // (Any Controller on this shared engine may be the one that reaped them.)
      assert.deepEqual(await labelledContainers(docker, otherRun), []);
      assert.equal(r.status, 'PASS', r.reasons.join('; '));
      assert.equal(fs.existsSync(`${history}.inflight.json`), false, 'in-flight marker removed at the end');
      assert.deepEqual(stagingDirsOf(first.run_id), [], 'orphan staging copy deleted');
      const h = readHistory(history);
      assert.deepEqual(h.problems, []);
      assert.deepEqual(h.records.map((x) => [x.runId, x.status]), [[first.run_id, 'ABORTED'], [second.run_id, 'PASS']]);
      assertHostUntouched();
    } finally {
      child.kill('SIGKILL');
      for (const c of await labelledContainers(docker, first.run_id)) await docker.getContainer(c.Id).remove({ force: true });
      fs.rmSync(path.dirname(planFile), { recursive: true, force: true });
    }
  });

  it('SEC-08 writes to /workspace/../x, absolute paths or outside the staging copy change nothing on the host', async () => {
    const marker = `factory-escape-${process.pid}-${Date.now()}`;
    const r = await hostile(
      `echo x > /workspace/../${marker}; echo x > /${marker}; echo x > /etc/${marker}; echo x > /factory/plan/${marker}; ` +
        `echo x > /workspace/src/../../${marker}; cd /workspace/.. && echo x > ${marker}; ` +
        `echo x > ${JSON.stringify(path.join(repo, 'src/a.py'))}; echo x > /tmp/${marker}; exit 0`,
    );
    assert.equal(r.status, 'PASS', r.reasons.join('; '));
    assert.deepEqual(r.changeset, []);
    assert.ok(!fs.existsSync(path.join(os.tmpdir(), marker)));
    assert.ok(!fs.existsSync(path.join('/', marker)));
    assertHostUntouched();
  });

  it('SEC-09 a new symlink (src/a -> /root/.ssh/id_rsa) is rejected and never followed', async () => {
    const r = await hostile('ln -s /root/.ssh/id_rsa src/key; ln -s ../../../../etc src/etc; rm src/b.py && ln -s /etc/passwd src/b.py; echo ok > src/a.py');
    assert.equal(r.status, 'FAIL');
    assert.deepEqual(r.violations, [
      { path: 'src/b.py', rule: 'symlink' },
      { path: 'src/etc', rule: 'symlink' },
      { path: 'src/key', rule: 'symlink' },
    ]);
    assert.equal(r.applied, false);
    assertHostUntouched();
  });

  it('SEC-10 created .git (any case), .gitmodules, .gitattributes, .vscode, workflows are rejected and no git hook/filter runs on the host', async () => {
    const ran = path.join(os.tmpdir(), `factory-hook-ran-${process.pid}-${Date.now()}`);
    const r = await hostile(
      `git init -q . 2>/dev/null; mkdir -p .git/hooks .GIT src/.Git .vscode .github/workflows; ` +
        `printf '#!/bin/sh\\ntouch ${ran}\\n' > .git/hooks/post-checkout; chmod +x .git/hooks/post-checkout; ` +
        `printf '[core]\\n fsmonitor = touch ${ran}\\n' > .GIT/config; echo x > src/.Git/HEAD; ` +
        `printf '* filter=evil\\n' > .gitattributes; printf '[filter "evil"]\\n smudge = touch ${ran}\\n' > src/.gitmodules; ` +
        `echo '{"terminal.integrated.shell.linux":"/tmp/x"}' > .vscode/settings.json; echo 'on: push' > .github/workflows/x.yml; echo ok > src/a.py`,
      {},
      plan({ modify: ['**'], readonly: [], forbidden: [] }),
    );
    assert.equal(r.status, 'FAIL');
    const rules = new Map(r.violations.map((v) => [v.path, v.rule]));
    assert.equal(rules.get('.git/hooks/post-checkout'), 'git-dir');
    assert.equal(rules.get('.GIT/config'), 'git-dir');
    assert.equal(rules.get('src/.Git/HEAD'), 'git-dir');
    assert.equal(rules.get('.gitattributes'), 'gitattributes');
    assert.equal(rules.get('src/.gitmodules'), 'gitmodules');
    assert.equal(rules.get('.vscode/settings.json'), 'vscode');
    assert.equal(rules.get('.github/workflows/x.yml'), 'workflows');
    assert.equal(r.applied, false);
    // Exercise the host repository the way the Controller does next; nothing planted may run.
    execFileSync('git', ['-C', repo, 'status', '--porcelain'], { stdio: 'pipe' });
    assert.equal(fs.existsSync(ran), false, 'a hook/fsmonitor/filter ran on the host');
    assertHostUntouched();
  });

  it('SEC-11 a change to a readonly or forbidden path, or outside scope.modify, fails the cycle with the paths listed; nothing applied', async () => {
    const r = await hostile(
      'echo hacked > lib/ro.py; echo hacked > D_ROADMAP.md; echo changed > src/a.py; echo x > setup.py; echo x > docs/new.md; mkdir -p lib2 && echo x > lib2/y.py; true',
      {},
      plan({ readonly: ['lib/**', 'docs/*.md'], forbidden: ['D_ROADMAP.md', '.env', 'lib2/**'] }),
    );
    assert.equal(r.status, 'FAIL');
    assert.deepEqual(r.violations, [
      { path: 'docs/new.md', rule: 'readonly' },
      { path: 'lib2/y.py', rule: 'forbidden' },
      { path: 'setup.py', rule: 'out-of-scope' },
    ]);
    assert.ok(r.reasons.some((x) => x.includes('setup.py') && x.includes('lib2/y.py')));
    assert.equal(r.applied, false);
    assertHostUntouched(); // src/a.py's in-scope change is not applied either
  });

  it('SEC-11 read-only overlays make readonly/forbidden files unwritable inside the container', async () => {
    const r = await hostile('echo x > lib/ro.py; a=$?; echo x > D_ROADMAP.md; b=$?; rm -f D_ROADMAP.md; c=$?; echo "$a $b $c" > src/codes.txt');
    assert.equal(r.status, 'PASS', r.reasons.join('; '));
    const codes = fs.readFileSync(path.join(repo, 'src/codes.txt'), 'utf8').trim().split(' ');
    assert.ok(codes.every((c) => c !== '0'), `writes succeeded: ${codes.join(' ')}`);
  });

  it('SEC-12 a rename from an allowed path to a disallowed one is rejected', async () => {
    const r = await hostile('mv src/a.py setup2.py; mv src/b.py docs/b.py');
    assert.equal(r.status, 'FAIL');
    assert.deepEqual(r.violations, [
      { path: 'docs/b.py', rule: 'out-of-scope' },
      { path: 'setup2.py', rule: 'out-of-scope' },
    ]);
    assert.ok(fs.existsSync(path.join(repo, 'src/a.py')));
    assertHostUntouched();
  });

  it('SEC-13 after a FAIL the host tree is byte-identical, ignored files (.env) included', async () => {
    const r = await hostile('echo y > src/a.py; rm src/b.py; echo leaked > .env; echo z > build/out.bin; exit 1');
    assert.equal(r.status, 'FAIL');
    assert.ok(r.changeset.some((c) => c.path === '.env'), 'the Worker could create .env in its copy…');
    assertHostUntouched(); // …but the host .env, build/ and .git are untouched
  });

  it('new files the host ignores (caches, build output) are dropped, never applied; the Worker cannot widen the ignore rules', async () => {
    const r = await hostile("echo '*.py' >> .gitignore; echo x > src/new.py; mkdir -p build; echo y > build/out2.bin", { apply: false }, plan({ modify: ['**'], readonly: [], forbidden: ['.env'] }));
    assert.equal(r.status, 'PASS', r.reasons.join('; '));
    assert.deepEqual(r.changeset, [{ path: '.gitignore', kind: 'modified' }, { path: 'src/new.py', kind: 'added' }]);
    assert.deepEqual(r.ignored, { count: 1, sample: ['build/out2.bin'] });
    assertHostUntouched();
  });

  it('SEC-14 odd names are detected and matched exactly: allowed ones applied byte-for-byte, unsafe ones rejected', async () => {
    const ok = await hostile(`printf 1 > 'src/with space.py'; printf 2 > "src/q'uo\\"te.py"; printf 3 > 'src/한글.py'; printf 4 > 'src/café.py'`);
    assert.equal(ok.status, 'PASS', ok.reasons.join('; '));
    for (const [name, content] of [['with space.py', '1'], [`q'uo"te.py`, '2'], ['한글.py', '3'], ['caf\u00e9.py', '4']]) {
      assert.equal(fs.readFileSync(path.join(repo, 'src', name), 'utf8'), content, name);
    }
    // Commit them so the next cycle's dirty-scope check passes, then hash the new host state.
    execFileSync('git', ['-C', repo, 'add', 'src'], { stdio: 'pipe' });
    execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-qm', 'odd names'], { stdio: 'pipe' });
    hostHash = hashTree(repo);
    const bad = await hostile(`printf x > "$(printf 'src/new\\nline.py')"; printf y > "$(printf 'src/cafe\\314\\201.py')"; printf z > 'src/ok.py'`);
    assert.equal(bad.status, 'FAIL');
    assert.deepEqual(bad.violations, [
      { path: 'src/cafe\u0301.py', rule: 'not-nfc' },
      { path: 'src/new\nline.py', rule: 'control-char' },
    ]);
    assertHostUntouched();
  });

  it('SEC-15 if the user edits an in-scope file during the cycle, ADJUST reports a conflict and writes nothing', async () => {
    const p = plan();
    const r = await runSandbox(
      { root: repo, plan: p, command: ['sh', '-c', 'sleep 1; echo worker > src/a.py; echo worker > src/new.py'], image: WORKER_IMAGE, apply: true, limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 } },
      { docker, onStart: () => fs.writeFileSync(path.join(repo, 'src/a.py'), 'user edit\n') },
    );
    assert.equal(r.status, 'FAIL');
    assert.equal(r.applied, false);
    assert.deepEqual(r.conflicts, [{ path: 'src/a.py', reason: 'changed-on-host' }]);
    assert.equal(fs.readFileSync(path.join(repo, 'src/a.py'), 'utf8'), 'user edit\n');
    assert.equal(fs.existsSync(path.join(repo, 'src/new.py')), false);
  });

  it('refuses to start when scope.modify paths are dirty on the host, naming them', async () => {
    fs.writeFileSync(path.join(repo, 'src/a.py'), 'uncommitted\n');
    fs.writeFileSync(path.join(repo, 'src/untracked.py'), 'new\n');
    const r = await runSandbox({ root: repo, plan: plan(), command: ['true'], image: WORKER_IMAGE }, { docker });
    assert.equal(r.status, 'ERROR');
    assert.match(r.reasons.join(' '), /uncommitted changes on the host: "src\/a.py", "src\/untracked.py"/);
    assert.equal(r.container, null, 'no container was started');
  });

  it('SEC-16 a lying result.json (symlink, FIFO, PASS with a gate FAIL, __proto__, oversized) fails the cycle, never crashes', async () => {
    const cases: [string, RegExp][] = [
      ['ln -s /etc/passwd /factory/out/result.json', /symlink/],
      ['mkfifo /factory/out/result.json', /not a regular file/],
      [`echo '{"ticket_id":"T-ADV","status":"PASS","gate_results":{"fast":"FAIL"},"cost_estimate_usd":0}' > /factory/out/result.json`, /claims PASS while one of its gate results is FAIL/],
      [`echo '{"__proto__":{"x":1},"ticket_id":"T-ADV","status":"PASS","cost_estimate_usd":0}' > /factory/out/result.json`, /__proto__/],
      ['head -c 2000000 /dev/zero | tr "\\0" " " > /factory/out/result.json', /over|limit/],
      [`echo '{"ticket_id":"T-ADV","status":"PASS","cost_estimate_usd":0,"files_changed":["../../etc/passwd"]}' > /factory/out/result.json`, /files_changed/],
    ];
    for (const [script, why] of cases) {
      const r = await hostile(`echo ok > src/a.py; ${script}`);
      assert.equal(r.status, 'FAIL', script);
      assert.match(r.reasons.join(' '), why, script);
      assert.equal(r.applied, false);
      assertHostUntouched();
    }
  });
});
