export * from './types';
export * from './config';
export * from './storage';
export * from './confchange';
export * from './raw-node';
export { ProgressState } from './progress';
export { Raft } from './raft';
export { maySendBeforePersist } from './send-first';
