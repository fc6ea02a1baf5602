import { fuzzTest } from './harness';
import { decisionCommandTarget, decisionSnapshotTarget } from './targets/decision';

describe('fuzz: decision state machine codec', () => {
  fuzzTest(decisionCommandTarget);
  fuzzTest(decisionSnapshotTarget);
});
