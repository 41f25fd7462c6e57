import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AuthenticationError } from '../../core/errors/request-errors';
import { ResolvedManaLlmOptions } from '../../core/mana-llm.options';
import { RESOLVED_OPTIONS } from '../../core/tokens';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Gateway auth (`MANA_LLM_API_KEYS` / `apiKeys`): when keys are configured, the guarded `/v1` routes
 * need `Authorization: Bearer <key>`, else 401 in the OpenAI error shape. Keys are compared as
 * SHA-256 digests with `timingSafeEqual` (equal lengths, so neither a key's content nor its length
 * leaks through timing), against every configured key without stopping early. Without keys every
 * request passes. The caller's `Authorization` is never forwarded upstream: adapters build their
 * own headers.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedManaLlmOptions) {
    this.digests = options.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digests.length === 0) return true;
    const header = context.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!match) throw new AuthenticationError();
    const candidate = digest(match[1]);
    let accepted = false;
    for (const known of this.digests) accepted = timingSafeEqual(candidate, known) || accepted;
    if (!accepted) throw new AuthenticationError();
    return true;
  }
}
