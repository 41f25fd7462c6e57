import { Type } from '@nestjs/common';
import { ChatController } from './chat/chat.controller';

/** Every controller `ManaLlmModule` mounts when `controllers` is on. */
export const HTTP_CONTROLLERS: Type<unknown>[] = [ChatController];
