import { ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { IncomingMessage } from 'node:http';
import { AuthenticationError } from '../../core/errors/request-errors';
import { resolveOptions } from '../../core/resolve-options';
import { HTTP_CONTROLLERS } from '../http-controllers';
import { ApiKeyGuard } from './auth.guard';

function contextWith(headers: IncomingMessage['headers']): ExecutionContext {
  const req = { headers } as IncomingMessage;
  return { switchToHttp: () => ({ getRequest: () => req }) } as unknown as ExecutionContext;
}

const guardWith = (apiKeys?: string[]) => new ApiKeyGuard(resolveOptions({ apiKeys }));

/** Every route path of a controller class: its prefix joined with each handler's path. */
function routesOf(controller: object): string[] {
  const prefix = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '').replace(/^\/|\/$/g, '');
  const proto = (controller as { prototype: Record<string, unknown> }).prototype;
  return Object.getOwnPropertyNames(proto)
    .filter((name) => name !== 'constructor')
    .map((name) => Reflect.getMetadata(PATH_METADATA, proto[name] as object) as string | undefined)
    .filter((path): path is string => path !== undefined)
    .map((path) => [prefix, path.replace(/^\//, '')].filter((p) => p.length > 0).join('/'));
}

describe(ApiKeyGuard.name, () => {
  it('should let every request through when no keys are configured', () => {
    expect(guardWith(undefined).canActivate(contextWith({}))).toBe(true);
    expect(guardWith([]).canActivate(contextWith({ authorization: 'Bearer anything' }))).toBe(true);
  });

  it('should accept each configured key, trimmed, with the Bearer scheme in any case', () => {
    const guard = guardWith([' alpha-key ', 'beta-key']);
    expect(guard.canActivate(contextWith({ authorization: 'Bearer alpha-key' }))).toBe(true);
    expect(guard.canActivate(contextWith({ authorization: 'bearer beta-key' }))).toBe(true);
    expect(guard.canActivate(contextWith({ authorization: 'BEARER  beta-key ' }))).toBe(true);
  });

  it.each([
    ['no header', {}],
    ['a wrong key', { authorization: 'Bearer gamma-key' }],
    ['a longer key', { authorization: 'Bearer alpha-key-and-more' }],
    ['a shorter key', { authorization: 'Bearer alpha' }],
    ['another scheme', { authorization: 'Token alpha-key' }],
    ['two tokens', { authorization: 'Bearer alpha-key beta-key' }],
  ])('should throw AuthenticationError (401) for %s', (_name, headers) => {
    const guard = guardWith(['alpha-key', 'beta-key']);
    expect(() => guard.canActivate(contextWith(headers))).toThrow(AuthenticationError);
    try {
      guard.canActivate(contextWith(headers));
    } catch (err) {
      expect((err as AuthenticationError).status).toBe(401);
      expect((err as AuthenticationError).code).toBe('invalid_api_key');
    }
  });

  it('should refuse an empty key in the options', () => {
    expect(() => guardWith(['ok', ' '])).toThrow('apiKeys must be an array of non-empty strings');
  });

  it('should guard exactly the /v1 routes except /v1/health on every mounted controller', () => {
    const guarded: string[] = [];
    const open: string[] = [];
    for (const controller of HTTP_CONTROLLERS) {
      const guards = (Reflect.getMetadata(GUARDS_METADATA, controller) ?? []) as unknown[];
      (guards.includes(ApiKeyGuard) ? guarded : open).push(...routesOf(controller));
    }
    expect(guarded.sort()).toEqual(
      ['v1/aliases', 'v1/chat/completions', 'v1/embeddings', 'v1/models', 'v1/models/*id'].sort(),
    );
    for (const route of open) expect(route === 'v1/health' || !route.startsWith('v1/')).toBe(true);
    expect(open).toEqual(
      expect.arrayContaining(['health', 'v1/health', 'health/live', 'health/ready', 'metrics']),
    );
  });
});
