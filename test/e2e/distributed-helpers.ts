// Shared by the distributed e2e tests: a private redis-server on a free loopback port, and `axx worker`
// processes (the real CLI) whose output the test can wait on.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {createServer} from 'node:net';
import {exited, spawnAxx} from './engine-helpers.js';

/** Whether redis-server is installed; the distributed tests are skipped with a note where it is not. */
export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer) console.warn('distributed e2e: skipped, redis-server is not installed (apt-get install redis-server)');

/** A port the kernel just handed out and released (redis-server refuses --port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** redis-server without persistence on `port`, resolved once it accepts connections. */
export async function startRedis(port?: number, extraArgs: string[] = []): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {stdio: ['ignore', 'pipe', 'pipe']});
  await waitForOutput(child, /Ready to accept connections/);
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** Resolves when the child's stdout/stderr so far matches `pattern`; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (pattern.test(text)) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (): void => reject(new Error(`process exited before printing ${pattern}:\n${text}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export type WorkerProcess = ChildProcess & {output: () => string};

/** `axx worker` with its own cache dir; resolved once it announced itself. */
export async function startWorker(redisUrl: string, blobs: string, cache: string, cwd: string, extraArgs: string[] = []): Promise<WorkerProcess> {
  const child = spawnAxx(['worker', '--redis', redisUrl, '--blobs', blobs, '--cache', cache, ...extraArgs], cwd);
  await waitForOutput(child, /takes jobs from/);
  return child;
}

export async function stopWorker(child: WorkerProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return exited(child);
}
