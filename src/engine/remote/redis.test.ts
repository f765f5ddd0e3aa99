import {describe, expect, it} from 'vitest';
import {parseRedisUrl, redactRedisUrl, RedisUrlError} from './redis.js';

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
