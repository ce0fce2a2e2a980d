import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { probeOutputFolders, type ProbeResult } from './fixtures/output-folders-probe';

const PROBE = path.join(__dirname, 'fixtures', 'output-folders-probe.ts');
/** A Controller without root: a uid and gid no account on the machine uses. */
const NON_ROOT = 1234;

/** The probe in a child process running as `uid:gid` (only root may start one as another user). */
function probeAs(uid: number, gid: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROBE], { uid, gid, cwd: path.resolve(__dirname, '..', '..', '..'), env: { ...process.env, HOME: '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ProbeResult) : reject(new Error(`probe exited ${code}: ${err}`))));
  });
}

describe('sandbox: host folders a container writes are never world-writable', function () {
  this.timeout(60_000);

  it('SEC-01 as root: the Worker\'s agent output and the Auditor\'s output are 0700, owned by the container user', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const r = await probeOutputFolders();
    for (const [what, f] of [['agent output', r.agentOutput], ['audit output', r.auditOutput]] as const) {
      assert.equal(f.mode, 0o700, `${what} mode`);
      assert.equal(`${f.uid}:${f.gid}`, r.containerUser, `${what} owned by the container user`);
    }
    assert.notEqual(r.containerUser.split(':')[0], '0', 'the container never runs as root');
  });

  it('SEC-01 as a non-root Controller: the same folders are 0700 and the container runs as the Controller\'s own uid, which owns them', async () => {
    const asRoot = process.getuid?.() === 0;
    const r = asRoot ? await probeAs(NON_ROOT, NON_ROOT) : await probeOutputFolders();
    if (asRoot) assert.deepEqual(r.controller, { uid: NON_ROOT, gid: NON_ROOT });
    const own = `${r.controller.uid}:${r.controller.gid}`;
    assert.equal(r.containerUser, own, 'the container runs as the Controller');
    for (const [what, f] of [['agent output', r.agentOutput], ['audit output', r.auditOutput]] as const) {
      assert.equal(f.mode, 0o700, `${what} mode`);
      assert.equal(`${f.uid}:${f.gid}`, own, `${what} owned by the Controller (= the container user)`);
    }
  });
});
