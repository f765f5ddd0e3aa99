import {createServer} from 'node:net';
import {describe, expect, it} from 'vitest';
import {parseRedisUrl, redactRedisUrl, RedisUrlError, RespConnection} from './resp-client.js';

describe('Redis URLs', () => {
  it('parse host, port, ACL user, password, database and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380')).toEqual({tls: false, host: '127.0.0.1', port: 6380, db: 0});
    expect(parseRedisUrl('rediss://lab:p%40ss@queue.lab:6390/2')).toEqual({tls: true, host: 'queue.lab', port: 6390, username: 'lab', password: 'p@ss', db: 2});
    expect(parseRedisUrl('redis://:secret@host')).toEqual({tls: false, host: 'host', port: 6379, password: 'secret', db: 0});
  });

  it('reject other schemes and bad databases without echoing the password', () => {
    expect(() => parseRedisUrl('http://u:secret@host')).toThrow(RedisUrlError);
    expect(() => parseRedisUrl('http://u:secret@host')).toThrow(/u:\*\*\*@host/);
    expect(() => parseRedisUrl('redis://host/x')).toThrow(/database/);
  });

  it('redact the password wherever a URL appears in a text', () => {
    expect(redactRedisUrl('axx run p.yaml --redis=redis://lab:secret@h:1 -j 2')).toBe('axx run p.yaml --redis=redis://lab:***@h:1 -j 2');
    expect(redactRedisUrl('rediss://:secret@h')).toBe('rediss://:***@h');
    expect(redactRedisUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});

describe('RespConnection', () => {
  it('reads replies split anywhere across packets, nested arrays, nulls and error replies, in order', async () => {
    // A server that answers each command with canned bytes, written one byte per packet.
    const replies = ['+OK\r\n', ':42\r\n', '$4\r\nhé!\r\n', '$-1\r\n', '*3\r\n$1\r\na\r\n*2\r\n:1\r\n*-1\r\n$0\r\n\r\n', '-ERR wrong\r\n', '$3\r\nend\r\n'];
    const server = createServer((socket) => {
      let answered = 0;
      socket.on('data', async (chunk) => {
        const commands = chunk.toString().split('*').length - 1;
        for (let i = 0; i < commands; i++) {
          for (const byte of Buffer.from(replies[answered++]!)) {
            socket.write(Buffer.from([byte]));
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as {port: number}).port;
    const connection = new RespConnection({tls: false, host: '127.0.0.1', port, db: 0});
    await connection.connect();
    try {
      expect(await connection.send('A', [])).toBe('OK');
      expect(await connection.send('B', [])).toBe(42);
      expect(await connection.send('C', [])).toBe('hé!');
      expect(await connection.send('D', [])).toBeNull();
      expect(await connection.send('E', [])).toEqual(['a', [1, null], '']);
      await expect(connection.send('F', [])).rejects.toThrow('ERR wrong');
      expect(await connection.send('G', [])).toBe('end');
    } finally {
      connection.close();
      server.close();
    }
  });
});
