export * from './llm-error';
export * from './request-errors';
export * from './upstream-errors';
export * from './routing-errors';
export * from './upstream-error.factory';
