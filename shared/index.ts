export * from './identity/index.ts';
export * from './protocol/index.ts';
export * from './resolver/index.ts';
export * from './util/result.ts';
export * from './util/random.ts';
