export * from './history';
export * from './model';
export * from './kv-model';
export * from './checker';
export * from './naive-checker';
export * from './format';
