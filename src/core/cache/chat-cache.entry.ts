import { ChatCompletion } from '../openai/chat-completion.types';

/**
 * What the cache stores for a chat request, streamed or not: the whole `chat.completion` (a streamed
 * answer is assembled first) and the `provider/model` that answered. Chunks are rebuilt on a streamed
 * hit (chat-stream.replay.ts). Changing this shape means bumping CACHE_FORMAT_VERSION.
 */
export interface CachedChat {
  resolved: string;
  completion: ChatCompletion;
}
