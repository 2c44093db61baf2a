// Stops the sphere started by global-setup and removes its data dir.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { STATE_FILE, type E2eState } from './state';

export default async function globalTeardown() {
  if (!existsSync(STATE_FILE)) return;
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as E2eState;
  try {
    if (state.pid) process.kill(state.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  await new Promise((r) => setTimeout(r, 500));
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
}
