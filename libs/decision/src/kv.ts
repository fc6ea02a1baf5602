/**
 * Versioned key-value pairs with compare-and-set. Versions never restart: a key deleted and
 * written again continues from its last version, so an old `ifVersion` can never match a newer
 * incarnation of the key (no ABA).
 */
export interface KvEntry {
  value: string;
  version: number;
  index: number;
}

export type KvPutResult =
  | { status: 'ok'; key: string; value: string; version: number; index: number }
  | { status: 'conflict'; key: string; currentVersion: number };

export type KvDeleteResult =
  | { status: 'ok'; key: string; version: number; index: number }
  | { status: 'not-found'; key: string }
  | { status: 'conflict'; key: string; currentVersion: number };

export class KvStore {
  entries = new Map<string, KvEntry>();
  /** Last version of deleted keys, so versions keep increasing. */
  graves = new Map<string, number>();

  put(index: number, key: string, value: string, ifVersion?: number): KvPutResult {
    const current = this.entries.get(key);
    const currentVersion = current?.version ?? 0;
    if (ifVersion !== undefined && ifVersion !== currentVersion)
      return { status: 'conflict', key, currentVersion };
    // Most keys were never deleted: two lookups fewer per write when none is (a replay
    // applies a million writes).
    const grave = this.graves.size > 0 ? this.graves.get(key) : undefined;
    const version = Math.max(currentVersion, grave ?? 0) + 1;
    this.entries.set(key, { value, version, index });
    if (grave !== undefined) this.graves.delete(key);
    return { status: 'ok', key, value, version, index };
  }

  delete(index: number, key: string, ifVersion?: number): KvDeleteResult {
    const current = this.entries.get(key);
    if (!current) return { status: 'not-found', key };
    if (ifVersion !== undefined && ifVersion !== current.version)
      return { status: 'conflict', key, currentVersion: current.version };
    this.entries.delete(key);
    this.graves.set(key, current.version);
    return { status: 'ok', key, version: current.version, index };
  }

  get(key: string): ({ key: string } & KvEntry) | undefined {
    const entry = this.entries.get(key);
    return entry ? { key, ...entry } : undefined;
  }
}
