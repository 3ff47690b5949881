export * from './errors.ts';
export * from './idsync.ts';
export * from './parse.ts';
export * from './version.ts';
