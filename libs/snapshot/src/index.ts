export * from './format';
export * from './snapshot-store';
export * from './fs-store';
