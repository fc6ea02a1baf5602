export * from './clock.port';
export * from './wal.port';
export * from './snapshot-store.port';
export * from './transport.port';
export * from './state-machine.port';
export * from './outcomes';
export * from './held-back-sends';
export * from './replica-driver';
