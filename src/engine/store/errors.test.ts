import {describe, expect, it} from 'vitest';
import {asStoreError} from './errors.js';

describe('store errors', () => {
  it('name the command that gets the user out as the caller writes it', () => {
    const full = asStoreError(Object.assign(new Error('disk I/O'), {code: 'SQLITE_FULL'}), '/data/my cache')!;
    const damaged = asStoreError(Object.assign(new Error('malformed'), {code: 'SQLITE_CORRUPT'}), '/data/c')!;
    expect(full.hint()).toContain('"axx gc --cache /data/my cache"');
    const npx = (args: readonly string[]): string => ['npx', 'axx', ...args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
    expect(full.hint(npx)).toContain(`"npx axx gc --cache '/data/my cache'"`);
    expect(damaged.hint(npx)).toContain('run "npx axx cache repair --cache /data/c"');
  });
});
