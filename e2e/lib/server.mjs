// Starts a throw-away minzheng server for the browser journeys: a fresh data
// folder in the system temp dir, a free port on 127.0.0.1, --demo so the four
// demo accounts and 20,000 synthetic persons are created. The demo accounts'
// passwords are read from the server's first-start output.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function whichGo() {
  return (process.env.PATH || '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'go')));
}

// binary returns the path of the minzheng binary: $MINZHENG_BIN if set,
// otherwise it builds one with `go build` into dir.
function binary(dir) {
  const env = process.env.MINZHENG_BIN;
  if (env) {
    const p = path.resolve(env);
    if (!existsSync(p)) throw new Error(`MINZHENG_BIN=${env}: no such file`);
    return p;
  }
  const out = path.join(dir, 'minzheng');
  const t0 = Date.now();
  // `go` from PATH, else the usual install location.
  const go = process.env.GO || (existsSync('/usr/local/go/bin/go') && !whichGo() ? '/usr/local/go/bin/go' : 'go');
  execFileSync(go, ['build', '-o', out, './cmd/minzheng'], { cwd: repoRoot, stdio: 'inherit' });
  console.log(`# built ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s (set MINZHENG_BIN to skip)`);
  return out;
}

// start launches the server and resolves once it printed its start line and
// answers /healthz. It returns { baseURL, passwords, stop, output }.
export async function start({ timeoutMs = 60_000 } = {}) {
  const work = mkdtempSync(path.join(tmpdir(), 'minzheng-e2e-'));
  const bin = binary(work);
  const dataDir = path.join(work, 'data');
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const args = ['serve', '--demo', '--data', dataDir, '--addr', addr];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  // Never leave the server behind, even if the runner is interrupted.
  const killOnExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killOnExit);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => { stderr += s; });

  const passwords = {};
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`)), timeoutMs);
    child.stdout.on('data', (s) => {
      stdout += s;
      for (const line of stdout.split('\n')) {
        // "  admin            市管理员           密码 Q2t8xUfUSBfWvAgk"
        const m = line.match(/^\s+(\S+)\s+.*密码\s+(\S+)\s*$/);
        if (m) passwords[m[1]] = m[2];
      }
      if (/minzheng 已启动/.test(stdout)) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${sig})\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`));
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  try {
    await ready;
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const baseURL = `http://${addr}`;
  // The start line is printed as the listener starts; wait for /healthz too.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`${baseURL}/healthz`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${baseURL}/healthz did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const name of ['admin', 'xuhui_reviewer', 'pudong_clerk', 'auditor', 'xuhui_approver']) {
    if (!passwords[name]) throw new Error(`no password for ${name} in server output:\n${stdout}`);
  }

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    if (!process.env.MINZHENG_E2E_KEEP) rmSync(work, { recursive: true, force: true });
  };
  return { baseURL, passwords, stop, output: () => ({ stdout, stderr }), dataDir };
}
