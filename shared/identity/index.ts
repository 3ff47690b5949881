export * from './identity-types.ts';
export * from './mpid.ts';
export * from './normalise.ts';
export * from './blocked-values.ts';
export * from './scope-config.ts';
export * from './text.ts';
