export * from './gossip-sim';
export * from './scenarios';
