export * from './ports';
export * from './errors';
export * from './enter';
export * from './route';
export * from './waits';
export * from './send';
export * from './wait-time';
export * from './trigger';
