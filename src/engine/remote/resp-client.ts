// A minimal Redis client (RESP2 over TCP or TLS) for BullMQ. BullMQ 6 drives any client through an
// adapter; this one has the shape of Bun's RedisClient (connect, send, close, duplicate and the
// onconnect/onclose hooks), so BullMQ's own `createBunRedisClient` adapter wraps it and keeps
// reconnecting, Lua scripts and transactions on its side. ioredis is not installed here; the
// adapter is BullMQ's supported seam for other drivers.
import {connect as tcpConnect, type Socket} from 'node:net';
import {connect as tlsConnect} from 'node:tls';
import {createBunRedisClient, type ConnectionOptions, type IRedisClient} from 'bullmq';

export type RespReply = string | number | null | RespReply[];

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

class RespParser {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** The next complete reply (an Error for a Redis error reply), or undefined until more bytes arrive. */
  next(): {reply: RespReply | Error} | undefined {
    const parsed = this.#parse(0);
    if (parsed === undefined) return undefined;
    this.#buffer = this.#buffer.subarray(parsed.end);
    return {reply: parsed.value};
  }

  #parse(at: number): {value: RespReply | Error; end: number} | undefined {
    const lineEnd = this.#buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const line = this.#buffer.toString('utf8', at + 1, lineEnd);
    const after = lineEnd + 2;
    switch (String.fromCharCode(this.#buffer[at]!)) {
      case '+':
        return {value: line, end: after};
      case '-':
        return {value: new Error(line), end: after};
      case ':':
        return {value: Number(line), end: after};
      case '$': {
        const length = Number(line);
        if (length < 0) return {value: null, end: after};
        if (this.#buffer.length < after + length + 2) return undefined;
        return {value: this.#buffer.toString('utf8', after, after + length), end: after + length + 2};
      }
      case '*': {
        const count = Number(line);
        if (count < 0) return {value: null, end: after};
        const items: RespReply[] = [];
        let end = after;
        for (let i = 0; i < count; i++) {
          const item = this.#parse(end);
          if (item === undefined) return undefined;
          // An error inside an array (EXEC of a failed command) stays an Error value, as other clients give it.
          items.push(item.value as RespReply);
          end = item.end;
        }
        return {value: items, end};
      }
      default:
        throw new Error(`unexpected RESP type byte ${this.#buffer[at]} from Redis`);
    }
  }
}

function encodeCommand(words: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${words.length}\r\n`)];
  for (const word of words) {
    const bytes = typeof word === 'string' ? Buffer.from(word, 'utf8') : word;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One connection, shaped like Bun's RedisClient for BullMQ's adapter (see the file comment). */
export class RespConnection {
  connected = false;
  onconnect: (() => void) | undefined;
  onclose: ((error?: Error) => void) | undefined;
  onerror: ((error: Error) => void) | undefined;
  #socket: Socket | undefined;
  #closing = false;
  readonly #pending: {resolve: (reply: RespReply) => void; reject: (error: Error) => void}[] = [];

  constructor(readonly target: RedisTarget) {}

  /** Bun's adapter reads `url` only to describe the client; never the password. */
  get url(): string {
    return `${this.target.tls ? 'rediss' : 'redis'}://${this.target.host}:${this.target.port}/${this.target.db}`;
  }

  async duplicate(): Promise<RespConnection> {
    return new RespConnection(this.target);
  }

  async connect(): Promise<void> {
    const {host, port, tls} = this.target;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tls ? tlsConnect({host, port, servername: host}) : tcpConnect({host, port});
      const onError = (error: NodeJS.ErrnoException): void => reject(new RedisConnectError(`cannot reach Redis at ${host}:${port} (${error.code ?? error.message})`));
      s.once('error', onError);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        s.off('error', onError);
        resolve(s);
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    const parser = new RespParser();
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      for (let next = parser.next(); next !== undefined; next = parser.next()) {
        const waiter = this.#pending.shift();
        if (next.reply instanceof Error) waiter?.reject(next.reply);
        else waiter?.resolve(next.reply);
      }
    });
    socket.on('error', (error) => this.onerror?.(error));
    socket.on('close', () => this.#closed());
    this.#socket = socket;
    this.connected = true;
    try {
      if (this.target.password !== undefined) await this.send('AUTH', this.target.username !== undefined ? [this.target.username, this.target.password] : [this.target.password]);
      if (this.target.db !== 0) await this.send('SELECT', [String(this.target.db)]);
    } catch (error) {
      this.close();
      // Redis's own words (WRONGPASS …) name the problem; the password is never part of them.
      throw new RedisConnectError(`Redis at ${this.target.host}:${this.target.port} refused the login: ${(error as Error).message}`);
    }
    this.onconnect?.();
  }

  /** Typed like Bun's client, whose adapter knows each command's reply shape. */
  send<T = RespReply>(command: string, args: readonly (string | Buffer)[]): Promise<T> {
    const socket = this.#socket;
    if (socket === undefined || !this.connected) return Promise.reject(new Error('Connection closed'));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({resolve: resolve as (reply: RespReply) => void, reject});
      socket.write(encodeCommand([command, ...args]));
    });
  }

  async get(key: string): Promise<string | null> {
    return (await this.send('GET', [key])) as string | null;
  }

  async smembers(key: string): Promise<RespReply[]> {
    return (await this.send('SMEMBERS', [key])) as RespReply[];
  }

  async incr(key: string): Promise<number> {
    return (await this.send('INCR', [key])) as number;
  }

  close(): void {
    this.#closing = true;
    this.#socket?.destroy();
  }

  #closed(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const waiter of this.#pending.splice(0)) waiter.reject(new Error('Connection closed'));
    // No error argument: the adapter would re-emit it as an 'error' event on clients nobody listens to; it reconnects either way.
    this.onclose?.();
  }
}

/** A fresh client that reconnects by itself (BullMQ's adapter around a RespConnection). */
export function redisClient(url: string): IRedisClient {
  return createBunRedisClient(new RespConnection(parseRedisUrl(url)));
}

/**
 * A client as BullMQ's `connection` option (typed for ioredis options, it takes any adapted client).
 * Give each Queue, Worker and QueueEvents its own, and quit it after closing them: BullMQ leaves
 * clients it was handed open.
 */
export function asConnection(client: IRedisClient): ConnectionOptions {
  return client as unknown as ConnectionOptions;
}
