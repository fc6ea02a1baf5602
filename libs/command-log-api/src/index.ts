export * from './rpc-patterns';
