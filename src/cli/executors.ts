// The executors `run` can use; the child-process one starts src/cli/step-child (compiled, or through
// tsx when axx itself runs from source). With --redis every step goes to the queue instead, and
// `axx worker` runs each job through the local ones.
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {childProcessExecutor} from '../engine/child-process-executor.js';
import {inProcessExecutor, type Executor} from '../engine/executor.js';
import type {ExecutorName} from '../engine/pipeline.js';
import {QueueExecutor} from '../engine/remote/queue-executor.js';
import {parseRedisUrl, RedisUrlError} from '../engine/remote/redis.js';
import type {StepKind} from '../engine/step-kind.js';
import {Cas} from '../engine/store/cas.js';
import {siblingEntry} from '../util/module-entry.js';
import type {OptionSpec, ParsedArgs} from './args.js';
import {UsageError, type CliIo} from './command.js';
import {formatDiagnostic} from './diagnostics.js';
import {projectDir} from './project.js';
import {ProjectConfigError, readProjectConfig, type ProjectConfig} from './project-config.js';

export function executors(): Record<ExecutorName, Executor> {
  const child = siblingEntry(import.meta.url, 'step-child');
  return {
    'in-process': inProcessExecutor,
    'child-process': childProcessExecutor({entry: fileURLToPath(child.url), execArgv: child.execArgv}),
  };
}

/** Where a worker runs a kind: its own preference, as `axx run` would without --executor. */
export function localExecutorFor(local: Record<ExecutorName, Executor>, kind: StepKind): Executor {
  return local[kind.executor ?? 'in-process'];
}

export const remoteOptions: OptionSpec[] = [
  {name: 'redis', type: 'string'},
  {name: 'blobs', type: 'string'},
];

/** The project's axx.yaml (project: nearest package.json above `from`, default the working directory); a bad one is a usage error pointing at its line. */
export function projectConfigFrom(io: CliIo, from = io.cwd): ProjectConfig {
  try {
    return readProjectConfig(projectDir(resolve(io.cwd, from)));
  } catch (error) {
    if (error instanceof ProjectConfigError) throw new UsageError(formatDiagnostic(error.diagnostic, io.cwd));
    throw error;
  }
}

/** --redis, else $AXX_REDIS_URL, else the project config's `redis:`; undefined when none is given (run stays local). */
export function redisUrlFrom(args: ParsedArgs, io: CliIo, config: ProjectConfig): string | undefined {
  const given = args.strings.get('redis') ?? io.env['AXX_REDIS_URL'];
  const url = given !== undefined && given !== '' ? given : config.redis;
  if (url === undefined || url === '') return undefined;
  try {
    parseRedisUrl(url);
  } catch (error) {
    if (error instanceof RedisUrlError) throw new UsageError(`--redis: ${error.message}`);
    throw error;
  }
  return url;
}

/** The shared blob tier: --blobs, else $AXX_BLOBS, else the project config's `blobs:`; required with --redis. */
export function sharedBlobsFrom(args: ParsedArgs, io: CliIo, config: ProjectConfig): Cas {
  const given = args.strings.get('blobs') ?? io.env['AXX_BLOBS'];
  const dir = given !== undefined && given !== '' ? resolve(io.cwd, given) : config.blobs;
  if (dir === undefined) throw new UsageError('with --redis, give --blobs DIR (or $AXX_BLOBS, or `blobs:` in axx.yaml): a directory every machine mounts at the same path, where inputs and outputs travel');
  return new Cas(dir);
}

/** Every executor name sends its steps to the queue. */
export function queueExecutors(executor: QueueExecutor): Record<ExecutorName, Executor> {
  return {'in-process': executor, 'child-process': executor};
}
