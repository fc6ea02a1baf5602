import { ConfChange, ConfChangeType } from '@parley/raft';
import type { PeerAddress } from './transport.port';

/** Conf changes carry the new member's address in `context` as host:port. */
export function addressesIn(cc: ConfChange): { id: string; address: PeerAddress }[] {
  if (!cc.context) return [];
  const address = parseAddress(cc.context);
  if (!address) return [];
  return cc.changes
    .filter((change) => change.type !== ConfChangeType.RemoveNode)
    .map((change) => ({ id: change.nodeId, address }));
}

function parseAddress(text: string): PeerAddress | undefined {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1], port } : undefined;
}
