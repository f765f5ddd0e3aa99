import {afterAll, describe, expect, it} from 'vitest';
import {hasRedisServer, startRedis, type RedisServer} from '../../../test/e2e/distributed-helpers.js';
import {JobChannel, type JobWatcher} from './job-channel.js';

const servers: RedisServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
});

describe.skipIf(!hasRedisServer)('JobChannel', () => {
  it('says once, not once per job in flight, that no worker is reachable', async () => {
    const server = await startRedis();
    servers.push(server);
    const channel = new JobChannel('axx-test-jobs', server.url, '--blobs DIR');
    const stop = new AbortController();
    const notes: string[] = [];
    let announced: () => void;
    const noted = new Promise<void>((resolve) => (announced = resolve));
    const watcher = (): JobWatcher => ({
      signal: stop.signal,
      update: () => undefined,
      note: (text) => {
        notes.push(text);
        announced();
      },
    });
    const jobs = Array.from({length: 8}, (_, i) => channel.run(`job-${i}`, 'test', {i}, watcher()).catch(() => 'interrupted'));
    await noted;
    // Every job's poll has run at least once more by the time a second check round is over.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    stop.abort();
    expect(await Promise.all(jobs)).toEqual(Array(8).fill('interrupted'));
    await channel.close();
    expect(notes.filter((n) => n.startsWith('no worker reachable'))).toHaveLength(1);
  }, 30_000);
});
