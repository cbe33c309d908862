export * from './checks';
export * from './report';
