import {describe, expect, it} from 'vitest';
import {decodeYamlBytes, invalidUtf8Offset} from './yaml-source.js';

describe('decoding a YAML file', () => {
  it('names the byte offset and line of the first byte that is not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('name: café\nsteps:\n  a: '), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\n')]);
    expect(invalidUtf8Offset(bytes)).toBe(bytes.indexOf(0xe9));
    const decoded = decodeYamlBytes('p.yaml', bytes);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.message).toBe(`p.yaml is not UTF-8 at byte ${bytes.indexOf(0xe9)} (0xe9)`);
      expect(decoded.error.location).toMatchObject({line: 3, column: 9});
    }
  });

  it('accepts UTF-8 (with or without a byte-order mark) and finds a truncated sequence at the end', () => {
    expect(decodeYamlBytes('p.yaml', Buffer.from('\uFEFFa: π\n'))).toEqual({ok: true, text: 'a: π\n'});
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
  });
});
