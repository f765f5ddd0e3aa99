// A memo held in a Map, for library tests that need the memo interface but not the engine's store
// (the libraries may not import the engine; src/engine/store/memo.ts is tested against the store contract).
import type {Json} from '../../src/util/json.js';

export class MemoryMemo {
  readonly entries = new Map<string, Json>();

  async get(key: string): Promise<Json | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, value: Json): Promise<void> {
    this.entries.set(key, value);
  }
}
