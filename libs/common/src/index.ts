export * from './assert';
