export * from './bootstrap';
export * from './health.controller';
export * from './rpc-auth';
export * from './rpc-auth.guard';
export * from './redact-url';
export * from './sealed-message';
export * from './nats-options';
export * from './no-delay-json-socket';
