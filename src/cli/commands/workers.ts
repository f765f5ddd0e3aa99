// `axx workers`: the workers connected to a Redis queue, what they offer and what they run now.
import {Queue} from 'bullmq';
import {asConnection, connectRedis, RedisConnectError, redactRedisUrl, redisClient} from '../../engine/remote/redis.js';
import {describeEnvironment, REDIS_KEYS, STEP_QUEUE, TASK_QUEUE, WORKER_STALE_MS, type WorkerAnnouncement} from '../../engine/remote/step-job.js';
import {parseArgs} from '../args.js';
import {ExitCode, UsageError, writeLine, type Command} from '../command.js';
import {projectConfigFrom, redisUrlFrom} from '../executors.js';

export const workersCommand: Command = {
  name: 'workers',
  usage: ['Usage: axx workers --redis <url> [--json]', '', '  --redis url   the queue (default $AXX_REDIS_URL)', '  --json        one JSON object per worker'].join('\n'),
  async run(argv, io) {
    const args = parseArgs(argv, [{name: 'redis', type: 'string'}, {name: 'json', type: 'flag'}]);
    const url = redisUrlFrom(args, io, projectConfigFrom(io));
    if (url === undefined) throw new UsageError('give --redis <url> (or $AXX_REDIS_URL, or `redis:` in axx.yaml)');
    const client = redisClient(url);
    client.on('error', () => undefined);
    try {
      await connectRedis(client, url);
    } catch (error) {
      client.disconnect();
      if (!(error instanceof RedisConnectError)) throw error;
      writeLine(io.stderr, `axx workers: ${error.message}; check --redis`);
      return ExitCode.usage;
    }
    const queueClient = redisClient(url);
    const queue = new Queue(STEP_QUEUE, {connection: asConnection(queueClient)});
    const taskClient = redisClient(url);
    const tasks = new Queue(TASK_QUEUE, {connection: asConnection(taskClient)});
    try {
      const now = Date.now();
      const workers = Object.values(await client.hgetall(REDIS_KEYS.workers))
        .map((text) => JSON.parse(text) as WorkerAnnouncement)
        .filter((w) => now - w.seenAt < WORKER_STALE_MS)
        .sort((a, b) => a.id.localeCompare(b.id));
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
      const taskCounts = await tasks.getJobCounts('waiting', 'active');
      if (args.flags.has('json')) {
        for (const w of workers) writeLine(io.stdout, JSON.stringify(w));
        return ExitCode.ok;
      }
      writeLine(io.stdout, `${workers.length} worker${workers.length === 1 ? '' : 's'} on ${redactRedisUrl(url)}; jobs waiting ${counts['waiting'] ?? 0}, running ${counts['active'] ?? 0}, delayed ${counts['delayed'] ?? 0}; evaluation tasks waiting ${taskCounts['waiting'] ?? 0}, running ${taskCounts['active'] ?? 0}`);
      for (const w of workers) {
        const offers = Object.entries(w.resources).map(([k, v]) => `${k}=${v}`).join(',') || 'no resources declared';
        writeLine(io.stdout, `  ${w.id}  ${describeEnvironment(w.environment)}  concurrency ${w.concurrency}, ${offers}${w.allowExec ? ', allows exec' : ''}`);
        for (const job of w.running) writeLine(io.stdout, `    running ${job.kind} ${job.jobId.replace(/^.*%3A/, '').slice(0, 12)} for ${Math.round((now - job.since) / 1000)}s`);
      }
      return ExitCode.ok;
    } finally {
      await queue.close();
      await tasks.close();
      await queueClient.quit();
      await taskClient.quit();
      await client.quit();
    }
  },
};
