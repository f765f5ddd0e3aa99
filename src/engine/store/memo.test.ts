import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {Store} from './store.js';

describe('Memo', () => {
  it('keeps JSON values by key across reopening the store, shared by every kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axx-memo-'));
    {
      using store = Store.open(dir);
      const sensitivity = store.memo.forKind('sensitivity');
      expect(await sensitivity.get('approx/search:abc')).toBeUndefined();
      await sensitivity.set('approx/search:abc', {accuracy: 0.5, metrics: {kl: 0.25}});
      await sensitivity.set('approx/search:abc', {accuracy: 0.75});
      await sensitivity.set('other:abc', [1, 'two', null]);
    }
    using store = Store.open(dir);
    const search = store.memo.forKind('search');
    expect(await search.get('approx/search:abc')).toEqual({accuracy: 0.75});
    expect(await search.get('other:abc')).toEqual([1, 'two', null]);
    expect(store.memo.count('approx/search:')).toBe(1);
    expect(store.memo.count()).toBe(2);
    const row = store.db.prepare('SELECT kind FROM memo WHERE key = ?').get('approx/search:abc') as {kind: string};
    expect(row.kind).toBe('sensitivity');
  });
});
