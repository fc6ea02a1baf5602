export * from './format';
export * from './snapshot-store';
export * from './fs-store';
export * from './s3-store';
export * from './tiered-store';
