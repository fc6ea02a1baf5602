import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { PeerAddress } from './peer-transport/peer-client';

/**
 * Peer addresses learned from configuration and from conf changes, kept in a small JSON file
 * beside the WAL so that a restarted replica can still reach members added after bootstrap
 * (their conf-change entries may have been compacted into a snapshot).
 */
export class AddressBook {
  private readonly addresses = new Map<string, PeerAddress>();
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'peers.json');
    if (existsSync(this.path)) this.load();
  }

  entries(): ReadonlyMap<string, PeerAddress> {
    return this.addresses;
  }

  get(id: string): PeerAddress | undefined {
    return this.addresses.get(id);
  }

  set(id: string, address: PeerAddress): void {
    const known = this.addresses.get(id);
    if (known && known.host === address.host && known.port === address.port) return;
    this.addresses.set(id, address);
    this.save();
  }

  private load(): void {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      throw new Error(
        `${this.path} is not valid JSON; delete it to relearn peers from configuration`,
      );
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error(`${this.path} is not an object`);
    for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
      const { host, port } = (value ?? {}) as { host?: unknown; port?: unknown };
      const valid =
        /^[a-z0-9][a-z0-9_-]{0,62}$/.test(id) &&
        typeof host === 'string' &&
        /^[A-Za-z0-9.-]+$/.test(host);
      if (!valid || !Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
        throw new Error(`${this.path}: bad entry for ${JSON.stringify(id).slice(0, 70)}`);
      }
      this.addresses.set(id, { host: host as string, port: port as number });
    }
  }

  private save(): void {
    const temporary = `${this.path}.tmp`;
    writeFileSync(
      temporary,
      JSON.stringify(Object.fromEntries([...this.addresses].sort()), null, 2),
    );
    const fd = openSync(temporary, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
  }
}
