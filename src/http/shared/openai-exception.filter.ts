import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toErrorResponse } from './error-response';
import { REQUEST_ID } from './request-id';

/** Every error of mana-llm's routes leaves as `{"error":{message,type,code,param}}` (SPEC §3). */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<ServerResponse>();
    const req = http.getRequest<IncomingMessage>();
    const { status, body, headers } = toErrorResponse(
      exception,
      (req as unknown as Record<symbol, string>)[REQUEST_ID],
    );
    if (res.headersSent) {
      if (!res.writableEnded) res.end();
      return;
    }
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
    });
    res.end(payload);
  }
}
