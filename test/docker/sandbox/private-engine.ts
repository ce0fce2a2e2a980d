import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/**
 * A SECOND dockerd owned by one test: its own unix socket, TCP+TLS listener on 127.0.0.1,
 * data-root, exec-root and pidfile under a temp dir, certificates generated here with openssl.
 * No bridge, no iptables. The shared engine at /var/run/docker.sock is never touched.
 */
export interface PrivateEngine {
  dir: string;
  socket: string;
  port: number;
  /** Folder with ca.pem, cert.pem, key.pem for the client (DOCKER_CERT_PATH). */
  certPath: string;
  /** DOCKER_HOST/DOCKER_TLS_VERIFY/DOCKER_CERT_PATH for a TLS client. */
  tlsEnv: Record<string, string>;
  /** The tiny image loaded into this engine. */
  image: string;
  process: ChildProcess;
  /** Stop the daemon with a signal and wait for it to exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Stop everything and delete the temp dir. */
  dispose(): Promise<void>;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** CA, server certificate for IP 127.0.0.1, client certificate (EC P-256: fast to generate). */
function makeCerts(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=factory-test-ca');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server-cert.pem', '-days', '1', '-extfile', 'server.ext');
  const client = path.join(dir, 'client');
  fs.mkdirSync(client);
  openssl(dir, 'req', ...ec, '-keyout', 'client/key.pem', '-out', 'client.csr', '-subj', '/CN=factory-test-client');
  openssl(dir, 'x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'client/cert.pem', '-days', '1', '-extfile', 'client.ext');
  fs.copyFileSync(path.join(dir, 'ca.pem'), path.join(client, 'ca.pem'));
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A ~3 MB image of the host's own sh/sleep/true/cat and their libraries (no registry needed). */
function importTinyImage(dir: string, socket: string, image: string): void {
  const rootfs = path.join(dir, 'rootfs');
  const bins = ['/bin/sh', '/bin/sleep', '/bin/true', '/bin/cat', '/bin/echo'].map((b) => fs.realpathSync(b));
  const libs = new Set<string>();
  for (const b of bins) {
    const out = execFileSync('ldd', [b], { encoding: 'utf8' });
    for (const m of out.matchAll(/(\/\S+)/g)) libs.add(m[1]);
  }
  for (const f of [...bins, ...libs]) {
    const dest = path.join(rootfs, f);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(f), dest);
    fs.chmodSync(dest, 0o755);
  }
  // Merged-/usr layout like the host: /bin → usr/bin, and sh → the host's shell binary.
  if (!fs.existsSync(path.join(rootfs, 'bin'))) fs.symlinkSync('usr/bin', path.join(rootfs, 'bin'));
  const shell = path.basename(fs.realpathSync('/bin/sh'));
  if (shell !== 'sh') fs.symlinkSync(shell, path.join(rootfs, 'usr', 'bin', 'sh'));
  for (const d of ['tmp', 'home/worker', 'workspace', 'factory', 'proc', 'sys', 'dev', 'etc']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  const tar = path.join(dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
  execFileSync('docker', ['-H', `unix://${socket}`, 'import', tar, image], { stdio: 'pipe' });
}

/** Processes this engine started that outlived it (containerd shims and their containers), by pid. */
function killLeftovers(dir: string): void {
  const procs = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map<number, number>();
  const owned: number[] = [];
  for (const pid of procs) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) owned.push(pid);
    } catch {
      // exited while we looked
    }
  }
  const descendants = (root: number): number[] => [...parent].filter(([, pp]) => pp === root).flatMap(([pid]) => [...descendants(pid), pid]);
  for (const pid of owned) {
    for (const p of [...descendants(pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export async function startPrivateEngine(): Promise<PrivateEngine> {
  // Short path: unix socket paths are limited to 108 bytes.
  const dir = fs.mkdtempSync('/tmp/fpd-');
  makeCerts(dir);
  const port = await freePort();
  const socket = path.join(dir, 'docker.sock');
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
  const args = [
    '--config-file', path.join(dir, 'daemon.json'),
    '--host', `unix://${socket}`,
    '--host', `tcp://127.0.0.1:${port}`,
    '--tlsverify', '--tlscacert', path.join(dir, 'ca.pem'), '--tlscert', path.join(dir, 'server-cert.pem'), '--tlskey', path.join(dir, 'server-key.pem'),
    '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'docker.pid'),
    '--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false',
    '--shutdown-timeout', '1',
  ];
  let child!: ChildProcess;
  let exited = false;
  /** Start (or restart, on the same folders) the daemon and wait until it answers. */
  const launch = async () => {
    const log = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
    child = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        execFileSync('docker', ['-H', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 5_000 });
        return;
      } catch {
        if (exited || Date.now() > deadline) {
          const tail = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
          child.kill('SIGKILL');
          throw new Error(`private dockerd did not start:\n${tail}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000) => {
    if (exited) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(t);
  };
  await launch();
  const image = 'factory-tiny:test';
  try {
    importTinyImage(dir, socket, image);
  } catch (err) {
    await stop();
    throw err;
  }
  let hardKilled = false;

  return {
    dir,
    socket,
    port,
    certPath: path.join(dir, 'client'),
    tlsEnv: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: path.join(dir, 'client') },
    image,
    get process() {
      return child;
    },
    async stop(signal?: NodeJS.Signals, graceMs?: number) {
      if (signal === 'SIGKILL') hardKilled = true;
      await stop(signal, graceMs);
    },
    async dispose() {
      if (hardKilled) {
        // A killed daemon leaves its containers running under containerd; a restart on the same
        // folders (live-restore off) kills and cleans them, then it stops normally.
        await launch().catch(() => undefined);
      }
      await stop('SIGTERM');
      // The daemon's managed containerd lives under our exec-root; make sure it is gone too.
      const cpid = path.join(dir, 'exec', 'containerd', 'containerd.pid');
      if (fs.existsSync(cpid)) {
        const pid = Number(fs.readFileSync(cpid, 'utf8').trim());
        try {
          if (pid > 1) process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      killLeftovers(dir);
      // Unmount anything the daemon left mounted under our dir, deepest first, then delete it.
      const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir + '/')).sort().reverse();
      for (const m of mounts) {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'pipe' });
        } catch {
          // best effort
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
