import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {readClassOrder} from './class-order.js';

const dir = mkdtempSync(join(tmpdir(), 'axx-classes-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

describe('class lists', () => {
  it('reads every accepted form into label order', () => {
    expect(readClassOrder(file('a.txt', 'n02\r\nn01\n\n'))).toEqual(['n02', 'n01']);
    expect(readClassOrder(file('b.json', '["n02", "n01"]'))).toEqual(['n02', 'n01']);
    expect(readClassOrder(file('c.json', '{"n01": 1, "n02": 0}'))).toEqual(['n02', 'n01']);
    expect(readClassOrder(file('d.json', '{"1": ["n01", "tench"], "0": ["n02", "goldfish"]}'))).toEqual(['n02', 'n01']);
  });

  it('refuses lists that do not give each label one folder, naming the file', () => {
    expect(() => readClassOrder(file('gap.json', '{"n01": 0, "n02": 2}'))).toThrow(`${join(dir, 'gap.json')}: entry "n02" does not give a distinct label index below 2`);
    expect(() => readClassOrder(file('twice.json', '{"n01": 0, "n02": 0}'))).toThrow(/entry "n02" does not give a distinct label index/);
    expect(() => readClassOrder(file('blank.txt', 'n01\n\nn02'))).toThrow(/class 1 has no name/);
    expect(() => readClassOrder(file('mixed.json', '["n01", 2]'))).toThrow(/must hold strings only/);
    expect(() => readClassOrder(join(dir, 'absent.txt'))).toThrow(/cannot read the class list/);
  });
});
