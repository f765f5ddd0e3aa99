// Is the process that wrote a `running` row or a lease still there? Same host: ask the kernel (a
// step that blocks the event loop for minutes must not look dead); another host sharing the cache
// dir: trust only a recent heartbeat.
import {hostname} from 'node:os';

export const HEARTBEAT_MS = 2_000;
/** From another host, a heartbeat older than this means its writer is gone. */
export const STALE_AFTER_MS = 30_000;

export const thisHost = hostname();

export function isAlive(pid: number, host: string, heartbeatAt: number, now: number): boolean {
  if (host !== thisHost) return now - heartbeatAt <= STALE_AFTER_MS;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
