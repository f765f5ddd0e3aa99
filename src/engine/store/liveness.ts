// Is the process that wrote a `running` row or a lease still there? Same host: ask the kernel;
// otherwise (a shared cache dir) trust only a recent heartbeat.
import {hostname} from 'node:os';

export const HEARTBEAT_MS = 2_000;
/** A heartbeat older than this means its writer is gone even if the pid was reused. */
export const STALE_AFTER_MS = 30_000;

export const thisHost = hostname();

export function isAlive(pid: number, host: string, heartbeatAt: number, now: number): boolean {
  if (now - heartbeatAt > STALE_AFTER_MS) return false;
  if (host !== thisHost) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
