export * from './config-error';
export * from './env-fields';
export * from './load-config';
export * from './base-config';
export * from './config-reference';
export * from './tls-fields';
export * from './disk-fields';
