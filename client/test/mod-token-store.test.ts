import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN_KEY, TokenStore } from '../src/mod/token-store.ts';

function memoryStorage() {
  const m = new Map<string, string>();
  return {
    m,
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
}

test('the token is kept trimmed under one key, refused when blank, and cleared', () => {
  const s = memoryStorage();
  const store = new TokenStore(s);
  assert.equal(store.get(), null);
  assert.equal(store.set('   '), false);
  assert.equal(s.m.size, 0);
  assert.equal(store.set(' sesame\n'), true);
  assert.equal(s.m.get(TOKEN_KEY), 'sesame');
  assert.equal(store.get(), 'sesame');
  store.clear();
  assert.equal(store.get(), null);
});
