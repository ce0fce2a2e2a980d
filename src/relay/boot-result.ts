import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { RELAY_ROUTES, type BundleManifest } from '../core/contracts/relay-protocol';
import { BootError, hostPath } from './boot-manifest';
import { expectOk, relayRequest, response, type RelayTarget } from './boot-net';

// The result archive (layout: relay-protocol.ts RELAY_JOB_FILES.result): per writable mount one
// `tar -c -b 1` (one 512-byte record, so the archive ends in exactly two zero blocks, which are held
// back) with `./` renamed to `m<k>` (symlink targets untouched), all streamed into one PUT, then the
// end-of-archive blocks once.

const END = 1024;

/** Streams mount `dir` (as `name/…`) into `out` without its end-of-archive blocks. */
async function archiveMount(dir: string, name: string, out: http.ClientRequest, answered: Promise<unknown>): Promise<void> {
  if (!fs.existsSync(dir)) throw new BootError(`writable mount ${dir} is missing`);
  const args = ['-c', '-b', '1', '--format=gnu', '--numeric-owner', '--hard-dereference', '-C', dir, '--transform', `s,^\\.,${name},S`, '.'];
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
  let held = Buffer.alloc(0);
  let stopped = false;
  void answered.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  for await (const c of child.stdout) {
    held = Buffer.concat([held, c as Buffer]);
    if (held.length > END) {
      const ready = held.subarray(0, held.length - END);
      held = Buffer.from(held.subarray(held.length - END));
      if (!out.write(ready)) await Promise.race([once(out, 'drain'), answered]);
    }
    if (stopped) {
      // the relay answered early (a refusal): stop tar before its pipe goes away under it
      child.kill('SIGKILL');
      break;
    }
  }
  if (stopped) return;
  const code = await exited;
  // 1: a file changed while it was read (the archive is still whole).
  if (code !== 0 && code !== 1) throw new BootError(`tar of ${dir} failed (exit ${code})`);
  if (held.length !== END || !held.every((b) => b === 0)) throw new BootError(`tar of ${dir} did not end with the end-of-archive blocks`);
}

/** PUTs every writable mount as one archive; throws BootError when the relay refuses it. */
export async function uploadResult(t: RelayTarget, manifest: BundleManifest, root: string | undefined): Promise<void> {
  const req = relayRequest(t, 'PUT', RELAY_ROUTES.result(t.jobId), { 'content-type': 'application/x-tar' });
  const answer = response(req, 'result upload');
  answer.catch(() => undefined);
  try {
    for (const m of manifest.mounts.filter((x) => !x.readOnly)) await archiveMount(hostPath(root, m.containerPath), m.dir, req, answer);
    req.end(Buffer.alloc(END));
  } catch (err) {
    req.destroy();
    throw err;
  }
  const res = await answer;
  await expectOk(res, 'result upload');
  res.resume();
}
