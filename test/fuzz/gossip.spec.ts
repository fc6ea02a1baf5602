import { fuzzTest } from './harness';
import { gossipMessageTarget, sealedPacketTarget } from './targets/gossip';

describe('fuzz: gossip packets', () => {
  fuzzTest(gossipMessageTarget);
  fuzzTest(sealedPacketTarget);
});
