export * from './retry';
export * from './breaker';
export * from './deadline';
