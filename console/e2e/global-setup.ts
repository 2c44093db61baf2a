// Starts `sphere up` on a free port in a temporary data dir and records where it is for the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO, STATE_FILE, type E2eState } from './state';

function sphereBin(): string {
  if (process.env.SPHERE_BIN) return resolve(process.env.SPHERE_BIN);
  const target = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target');
  return join(target, 'debug', 'sphere');
}

export default async function globalSetup() {
  const bin = sphereBin();
  if (!existsSync(bin)) throw new Error(`sphere binary not found at ${bin}: build it (cargo build -p sphere) or set SPHERE_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'ferrosphere-e2e-'));
  const child = spawn(bin, ['up', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  try {
    await prepare(child, dataDir);
  } catch (err) {
    // Playwright skips the teardown when the setup fails: stop the server here.
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function prepare(child: ChildProcess, dataDir: string) {
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`sphere up did not print its address in 60 s:\n${out}`)), 60_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const m = / listening on (https:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('exit', (code) => fail(new Error(`sphere up exited with ${code}:\n${out}`)));
  });
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  // The platform writes the password as it starts; give it a moment after the listening line.
  const passwordFile = join(dataDir, 'initial-admin-password');
  for (let i = 0; i < 100 && !existsSync(passwordFile); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(passwordFile)) throw new Error(`${passwordFile} was not written: the platform is not wired into \`sphere up\` yet`);
  const adminPassword = readFileSync(passwordFile, 'utf8').trim();
  const state: E2eState = { url, dataDir, pid: child.pid ?? 0, initialAdminPassword: adminPassword };
  writeFileSync(STATE_FILE, JSON.stringify(state));
  process.env.E2E_BASE_URL = url;

  // The console needs the platform APIs; say so plainly when this sphere does not serve them.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const probe = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password&username=nobody&password=x&client_id=kubesphere&client_secret=kubesphere' });
  if (probe.status === 404) throw new Error('this sphere does not serve POST /oauth/token: the platform is not wired into `sphere up` yet');
}
