export * from './linearizability';
export * from './raft';
