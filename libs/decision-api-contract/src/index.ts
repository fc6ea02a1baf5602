export * from './schemas';
export * from './cluster-view';
export * from './answers';
export * from './decision-event';
