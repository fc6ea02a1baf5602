export * from './assert';
export * from './byte-io';
export * from './crc32c';
