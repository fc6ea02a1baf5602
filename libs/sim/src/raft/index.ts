export * from './rng';
export * from './event-queue';
export * from './network';
export * from './kv-state-machine';
export * from './sim-node';
export * from './cluster-sim';
