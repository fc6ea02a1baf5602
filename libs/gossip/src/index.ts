export * from './types';
export * from './config';
export * from './awareness';
export * from './suspicion';
export * from './broadcast-queue';
export * from './swim';
export * from './codec';
