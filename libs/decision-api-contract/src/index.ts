export * from './schemas';
export * from './cluster-view';
export * from './decision-event';
