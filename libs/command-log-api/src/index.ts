export * from './rpc-patterns';
export * from './local-command-log';
