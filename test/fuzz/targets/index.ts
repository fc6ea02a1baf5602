import { FuzzTarget } from '../harness';
import { agentEventTarget } from './agent-event';
import { configTargets } from './config';
import { crdtCodecTarget } from './crdt';
import { decisionCommandTarget, decisionSnapshotTarget } from './decision';
import { gossipMessageTarget, sealedPacketTarget } from './gossip';
import { peerChallengeTarget, peerFrameTarget, peerMessageTarget } from './peer-transport';
import { snapshotFormatTarget, snapshotStoreTarget } from './snapshot';
import { walRecordTarget, walReplayTarget } from './wal';

/** Every decoder of the project, in the order of issue #9's list; `npm run fuzz` runs them all. */
export const ALL_TARGETS: readonly FuzzTarget<unknown>[] = [
  peerMessageTarget,
  peerFrameTarget,
  peerChallengeTarget,
  walRecordTarget,
  walReplayTarget,
  snapshotFormatTarget,
  snapshotStoreTarget,
  gossipMessageTarget,
  sealedPacketTarget,
  agentEventTarget,
  ...configTargets,
  crdtCodecTarget,
  decisionCommandTarget,
  decisionSnapshotTarget,
];
