export * from './linearizability';
export * from './raft';
export * from './gossip';
