export * from './schemas';
export * from './cluster-view';
