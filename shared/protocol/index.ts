export * from './errors.ts';
export * from './idsync.ts';
export * from './parse.ts';
export * from './sync.ts';
export * from './version.ts';
