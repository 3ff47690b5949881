export * from './bridge.ts';
export * from './csp.ts';
