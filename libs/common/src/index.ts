export * from './assert';
export * from './byte-io';
