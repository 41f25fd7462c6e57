export * from './chat-completion.types';
export * from './embedding.types';
export * from './model.types';
export * from './validate-chat-request';
export * from './validate-embedding-request';
