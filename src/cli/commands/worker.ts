// `axx worker`: takes step jobs from Redis until SIGINT/SIGTERM, then finishes the jobs in hand and exits 0.
import {hostname} from 'node:os';
import {join} from 'node:path';
import {RedisConnectError, redactRedisUrl} from '../../engine/remote/redis.js';
import {describeEnvironment, jobEnvironment} from '../../engine/remote/step-job.js';
import {startStepWorker} from '../../engine/remote/step-worker.js';
import {Cas} from '../../engine/store/cas.js';
import {stepKinds} from '../../steps/index.js';
import {intOption, parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {hostEnvironment} from '../host-environment.js';
import {executors, localExecutorFor, projectConfigFrom, redisUrlFrom, remoteOptions, sharedBlobsFrom} from '../executors.js';
import {cacheDir, cacheOption} from '../project.js';

export const workerCommand: Command = {
  name: 'worker',
  usage: [
    'Usage: axx worker --redis <url> --blobs <dir> [options]',
    '',
    '  --redis url              Redis the coordinators use (default $AXX_REDIS_URL): redis://[user:pass@]host:port or rediss://',
    '  --blobs dir              the blob directory every machine mounts (default $AXX_BLOBS)',
    '  --concurrency N          jobs at once (default 1)',
    '  --resources cpu=4,gpu=1  what this worker offers; announced to `axx workers`',
    '  --allow-exec             also run `exec` steps (arbitrary shell commands from the pipeline)',
    '  --cache dir              this machine\'s own store, a read-through cache of the blob directory (default $AXX_CACHE, else <project>/cache)',
    '',
    'Stops on SIGINT/SIGTERM after finishing the jobs in hand (exit 0). Anyone who can write to the Redis',
    'queue can run step kinds here; see docs/distributed.md "Trust".',
  ].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [...remoteOptions, cacheOption, {name: 'concurrency', type: 'string'}, {name: 'resources', type: 'string'}, {name: 'allow-exec', type: 'flag'}]);
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const config = projectConfigFrom(io);
    const redisUrl = redisUrlFrom(args, io, config);
    if (redisUrl === undefined) throw new UsageError('give --redis <url> (or $AXX_REDIS_URL, or `redis:` in axx.yaml)');
    const shared = sharedBlobsFrom(args, io, config);
    const concurrency = intOption(args, 'concurrency', 1) ?? 1;
    const resources = parseResources(args.strings.get('resources'));
    const host = hostname();
    const id = `${host}:${process.pid}`;
    const local = executors();
    const starting = startStepWorker({
      redisUrl,
      id,
      host,
      kinds: stepKinds,
      executorFor: (kind) => localExecutorFor(local, kind),
      local: new Cas(join(cacheDir(args, io), 'cas')),
      shared,
      concurrency,
      resources,
      allowExec: args.flags.has('allow-exec'),
      hostEnvironment: hostEnvironment(io),
      log: (line) => writeLine(io.stdout, `${new Date().toISOString()} ${line}`),
    });
    const worker = await starting.catch((error: unknown) => {
      if (error instanceof RedisConnectError) return error;
      throw error;
    });
    if (worker instanceof RedisConnectError) {
      writeLine(io.stderr, `axx worker: ${worker.message}; check --redis`);
      return ExitCode.usage;
    }
    writeLine(io.stdout, `worker ${id} (${describeEnvironment(jobEnvironment())}) takes jobs from ${redactRedisUrl(redisUrl)}, blobs in ${shared.root}`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), {once: true});
    });
    writeLine(io.stdout, `worker ${id}: stopping after the jobs in hand`);
    await worker.close();
    return ExitCode.ok;
  },
};

function parseResources(text: string | undefined): Record<string, number> {
  if (text === undefined) return {};
  const resources: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=');
    const amount = Number(value);
    if (name === undefined || name === '' || !Number.isFinite(amount) || amount < 0) throw new UsageError(`--resources: "${part}" is not name=number (e.g. cpu=4,gpu=1)`);
    resources[name] = amount;
  }
  return resources;
}
