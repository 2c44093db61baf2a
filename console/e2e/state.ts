// Where the running server is, shared by the global setup and the tests.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (console/..). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
mkdirSync(join(REPO, 'target'), { recursive: true });

export interface E2eState {
  url: string;
  dataDir: string;
  pid: number;
  initialAdminPassword: string;
}

export const STATE_FILE = join(REPO, 'target', 'e2e-state.json');
