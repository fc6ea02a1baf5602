export * from './dots';
export * from './hlc';
export * from './gcounter';
export * from './pncounter';
export * from './orset';
export * from './lww';
export * from './mvregister';
export * from './codec';
