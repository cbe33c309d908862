export * from './policy';
export * from './ports';
export * from './token';
export * from './links';
export * from './update';
export * from './ses-events';
