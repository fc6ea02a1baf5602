export * from './assert';
export * from './byte-io';
export * from './crc32c';
export * from './closed-loop';
export * from './percentile';
export * from './durable-append';
export * from './inline-writes';
