// Whether processes a test started are gone, found by a command-line marker no other process uses.
import {spawnSync} from 'node:child_process';

/** True once no process's command line contains `marker`; a killed process may take a moment to be reaped. */
export async function processesGone(marker: string, patienceMs = 5000): Promise<boolean> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    if (spawnSync('pgrep', ['-f', marker]).status === 1) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
