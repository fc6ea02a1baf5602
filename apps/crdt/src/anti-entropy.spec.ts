import { HlcClock, LWWRegister, ORSet, PNCounter } from '@parley/crdt';
import { versionOf, whatPeerLacks } from './anti-entropy';

describe('anti-entropy: what a peer lacks, from its version', () => {
  it('a counter sends only the slots the peer is behind on, nothing when it is not', () => {
    const mine = new PNCounter();
    mine.increment('a', 3);
    const peer = mine.clone();
    mine.increment('b', 2);
    expect(whatPeerLacks(mine, versionOf(peer))?.toJSON()).toEqual({ p: { b: 2 }, n: {} });
    expect(whatPeerLacks(peer, versionOf(mine))).toBeUndefined();
  });

  it('a set sends a delta of unseen dots; equal vectors but different states get the full state', () => {
    const mine = new ORSet();
    for (let i = 0; i < 100; i += 1) mine.add('a', `e${i}`);
    const peer = mine.clone();
    mine.add('a', 'new');
    const delta = whatPeerLacks(mine, versionOf(peer)) as ORSet;
    expect(delta.values()).toEqual(['new']);
    peer.merge(delta);
    expect(peer.values()).toEqual(mine.values());

    mine.remove('e1'); // a removal of a dot the peer has seen: vectors stay equal
    expect(whatPeerLacks(mine, versionOf(peer))).toBe(mine);
    expect(whatPeerLacks(peer, versionOf(mine))).toBe(peer); // both fall back; joins converge
  });

  it('a flag is sent only when it is newer; an unreadable version gets the full state', () => {
    const clock = new HlcClock('a');
    const older = new LWWRegister();
    older.set('x', clock.now(1));
    const newer = older.clone();
    newer.set('y', clock.now(2));
    expect(whatPeerLacks(newer, versionOf(older))).toBe(newer);
    expect(whatPeerLacks(older, versionOf(newer))).toBeUndefined();
    expect(whatPeerLacks(newer, 'garbage')).toBe(newer);
    expect(whatPeerLacks(new PNCounter(), { p: 'x' })).toBeInstanceOf(PNCounter);
  });
});
