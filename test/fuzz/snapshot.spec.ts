import { fuzzTest } from './harness';
import { snapshotFormatTarget, snapshotStoreTarget } from './targets/snapshot';

describe('fuzz: snapshot loader', () => {
  fuzzTest(snapshotFormatTarget);
  fuzzTest(snapshotStoreTarget);
});
