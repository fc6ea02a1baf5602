export * from './gossip-sim';
