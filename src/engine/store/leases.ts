// One lease row per step key being computed, so two `axx run`s sharing a step compute it once:
// the second sees the lease and waits for the result instead of racing for the same work.
import type {Db} from './database.js';
import {isAlive, thisHost} from './liveness.js';

export interface LeaseHolder {
  runId: string;
  instance: string;
  pid: number;
  host: string;
  heartbeatAt: number;
}

export class Leases {
  constructor(
    readonly db: Db,
    readonly clock: () => number = Date.now,
  ) {}

  /** Takes the lease unless a live holder has it; returns that holder if so. Stale leases are taken over. */
  acquire(key: string, runId: string, instance: string): {acquired: true} | {acquired: false; holder: LeaseHolder} {
    return this.db
      .transaction((): {acquired: true} | {acquired: false; holder: LeaseHolder} => {
        const row = this.db.prepare('SELECT run_id, instance, pid, host, heartbeat_at FROM leases WHERE key = ?').get(key) as
          | {run_id: string; instance: string; pid: number; host: string; heartbeat_at: number}
          | undefined;
        const now = this.clock();
        // Held by someone else: another run, or another instance of this run with the same key.
        const other = row !== undefined && (row.run_id !== runId || row.instance !== instance);
        if (other && isAlive(row.pid, row.host, row.heartbeat_at, now)) {
          return {acquired: false, holder: {runId: row.run_id, instance: row.instance, pid: row.pid, host: row.host, heartbeatAt: row.heartbeat_at}};
        }
        this.db.prepare('INSERT OR REPLACE INTO leases (key, run_id, instance, pid, host, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)').run(key, runId, instance, process.pid, thisHost, now);
        return {acquired: true};
      })
      .immediate();
  }

  /** Refreshes every lease this run holds. */
  heartbeat(runId: string): void {
    this.db.prepare('UPDATE leases SET heartbeat_at = ? WHERE run_id = ?').run(this.clock(), runId);
  }

  release(key: string, runId: string): void {
    this.db.prepare('DELETE FROM leases WHERE key = ? AND run_id = ?').run(key, runId);
  }

  releaseAll(runId: string): void {
    this.db.prepare('DELETE FROM leases WHERE run_id = ?').run(runId);
  }
}
