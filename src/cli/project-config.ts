// The optional project config file, axx.yaml beside the project's package.json: settings a lab shares
// instead of typing them on every command. Flags and the environment win over it.
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {isMap, isScalar, LineCounter, parseDocument, type Node} from 'yaml';
import type {Diagnostic} from '../engine/events.js';
import {parseRedisUrl, RedisUrlError} from '../engine/remote/redis.js';

export const PROJECT_CONFIG_FILE = 'axx.yaml';

export interface ProjectConfig {
  /** Redis URL for `axx run`, `axx worker`, `axx workers` (after --redis and $AXX_REDIS_URL). */
  redis?: string;
  /** The shared blob directory, absolute (written relative to the config file's directory). */
  blobs?: string;
}

const FIELDS: Record<keyof ProjectConfig, string> = {
  redis: 'the Redis URL distributed runs use: redis://[user:pass@]host:port[/db] or rediss://',
  blobs: 'the blob directory every machine mounts, absolute or relative to this file',
};

/** A config file that does not say what axx expects: one located diagnostic. */
export class ProjectConfigError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
    this.name = 'ProjectConfigError';
  }
}

/** Reads `<projectDir>/axx.yaml`; an empty config where there is none. */
export function readProjectConfig(projectDir: string): ProjectConfig {
  const file = join(projectDir, PROJECT_CONFIG_FILE);
  if (!existsSync(file)) return {};
  const lineCounter = new LineCounter();
  const document = parseDocument(readFileSync(file, 'utf8'), {lineCounter});
  const fail = (node: Node | null | undefined, message: string, hint?: string): never => {
    const offset = node?.range?.[0] ?? 0;
    const {line, col} = lineCounter.linePos(offset);
    throw new ProjectConfigError({message, location: {file, line, column: col, length: Math.max(1, (node?.range?.[1] ?? offset + 1) - offset)}, ...(hint !== undefined ? {hint} : {})});
  };
  const [syntax] = document.errors;
  if (syntax !== undefined) {
    const {line, col} = lineCounter.linePos(syntax.pos[0]);
    throw new ProjectConfigError({message: `${PROJECT_CONFIG_FILE} is not valid YAML: ${syntax.message.split('\n')[0]}`, location: {file, line, column: col}});
  }
  if (document.contents === null) return {};
  if (!isMap(document.contents)) fail(document.contents, `${PROJECT_CONFIG_FILE} must be a mapping of settings`, fieldsHint());
  const config: ProjectConfig = {};
  for (const pair of isMap(document.contents) ? document.contents.items : []) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key !== 'redis' && key !== 'blobs') fail(pair.key as Node, `unknown setting "${key ?? '?'}" in ${PROJECT_CONFIG_FILE}`, fieldsHint());
    const value = pair.value as Node | null;
    if (!isScalar(value) || typeof value.value !== 'string' || value.value === '') fail(value ?? (pair.key as Node), `"${key}" must be a non-empty string: ${FIELDS[key as keyof ProjectConfig]}`);
    const text = (value as {value: string}).value;
    if (key === 'redis') {
      try {
        parseRedisUrl(text);
      } catch (error) {
        if (error instanceof RedisUrlError) fail(value, `"redis": ${error.message}`);
        throw error;
      }
      config.redis = text;
    } else {
      config.blobs = resolve(dirname(file), text);
    }
  }
  return config;
}

function fieldsHint(): string {
  return `settings: ${Object.entries(FIELDS).map(([name, what]) => `${name} (${what})`).join('; ')}`;
}
