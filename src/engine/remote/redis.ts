// Redis connections for BullMQ through ioredis (BullMQ's reference client, wrapped in BullMQ's own
// adapter), made from the --redis URL: redis://[user:pass@]host[:port][/db], or rediss:// for TLS.
// Reconnecting, Lua scripts and transactions stay on ioredis' and BullMQ's side.
import {createIORedisClient, type ConnectionOptions, type IRedisClient} from 'bullmq';
import {isIP} from 'node:net';
import {Redis} from 'ioredis';

/** Where and as whom to connect, parsed from redis://[user:pass@]host[:port][/db] or rediss://. */
export interface RedisTarget {
  tls: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

/** A bad --redis URL (the CLI reports it as a usage error). */
export class RedisUrlError extends Error {}

/** Redis cannot be reached, or refuses the login; the message names host and port, never the password. */
export class RedisConnectError extends Error {}

export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisUrlError(`${redactRedisUrl(text)} is not a URL; write redis://host:port (or rediss:// for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RedisUrlError(`${redactRedisUrl(text)}: the scheme must be redis:// or rediss://`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new RedisUrlError(`${redactRedisUrl(text)}: the database after the port must be a number`);
  return {
    tls: url.protocol === 'rediss:',
    host: url.hostname || '127.0.0.1',
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username !== '' ? {username: decodeURIComponent(url.username)} : {}),
    ...(url.password !== '' ? {password: decodeURIComponent(url.password)} : {}),
    db,
  };
}

/** The text with the password of any URL in it replaced by "***": the only form that may be printed or logged. */
export function redactRedisUrl(text: string): string {
  // Any scheme: a mistyped one (http://user:pass@…) is echoed in the error that rejects it.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/** A fresh client, not yet connected; it reconnects by itself once it has been. */
export function redisClient(url: string): IRedisClient {
  const target = parseRedisUrl(url);
  const redis = new Redis({
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? {username: target.username} : {}),
    ...(target.password !== undefined ? {password: target.password} : {}),
    // SNI carries host names only (RFC 6066); a certificate for an IP is checked against its IP SAN without it.
    ...(target.tls ? {tls: isIP(target.host) === 0 ? {servername: target.host} : {}} : {}),
    lazyConnect: true,
    // BullMQ's workers block on Redis and must wait out an outage rather than fail a command after N retries.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
  });
  return createIORedisClient(redis) as unknown as IRedisClient;
}

/** Connects `client`; a refused login or an unreachable server is a RedisConnectError naming host and port, never the password. */
export async function connectRedis(client: IRedisClient, url: string): Promise<void> {
  // ioredis reports a refused login as an 'error' event and then rejects with "Connection is closed".
  let reported: Error | undefined;
  const onError = (error: Error) => (reported = error);
  client.on('error', onError);
  try {
    await client.connect();
  } catch (error) {
    const {host, port} = parseRedisUrl(url);
    const message = redactRedisUrl((reported ?? (error as Error)).message);
    // Redis's own words (WRONGPASS, NOAUTH …) name a login problem; the password is never part of them.
    const what = /^(WRONGPASS|NOAUTH|NOPERM)/.test(message) ? 'refused the login' : 'cannot be reached';
    throw new RedisConnectError(`Redis at ${host}:${port} ${what}: ${message}`);
  } finally {
    client.off('error', onError);
  }
}

/**
 * A client as BullMQ's `connection` option (typed for ioredis options, it takes an adapted client).
 * Give each Queue, Worker and QueueEvents its own, and quit it after closing them: BullMQ leaves
 * clients it was handed open.
 */
export function asConnection(client: IRedisClient): ConnectionOptions {
  return client as unknown as ConnectionOptions;
}
