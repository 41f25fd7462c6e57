import {
  ArgumentsHost,
  CanActivate,
  Catch,
  Controller,
  ExceptionFilter,
  ExecutionContext,
  Injectable,
  Module,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { serveAheadOfExpress } from './ahead-of-express';

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.switchToHttp().getRequest<IncomingMessage>().headers['x-deny'] === 'yes') {
      throw new Error('denied by the guard');
    }
    return true;
  }
}

@Catch()
class TeapotFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    res.writeHead(418, { 'content-type': 'text/plain' });
    res.end(`filtered: ${(exception as Error).message}`);
  }
}

@Controller()
@UseFilters(TeapotFilter)
@UseGuards(DenyGuard)
class HotController {
  @Post('hot')
  hot(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    if (req.headers['x-throw'] === 'yes') throw new Error('thrown by the handler');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hot');
  }

  @Post('cold')
  cold(@Res() res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('cold');
  }
}

@Module({ controllers: [HotController], providers: [DenyGuard] })
class HotModule {}

describe(serveAheadOfExpress.name, () => {
  let app: NestExpressApplication;
  let pool: Pool;

  beforeAll(async () => {
    app = await NestFactory.create<NestExpressApplication>(HotModule, { logger: false, bodyParser: false });
    app.disable('x-powered-by');
    // Marks every response that went through Express's middleware chain.
    app.use((_req: IncomingMessage, res: ServerResponse, next: () => void) => {
      res.setHeader('x-through-express', 'yes');
      next();
    });
    serveAheadOfExpress(app, [{ method: 'POST', path: '/hot' }], (_req, res) =>
      res.setHeader('x-prepared', 'yes'),
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    pool = new Pool(`http://127.0.0.1:${port}`);
  });

  afterAll(async () => {
    await pool.close();
    await app.close();
  });

  async function post(path: string, headers: Record<string, string> = {}) {
    const res = await pool.request({ method: 'POST', path, headers, body: '{}' });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  it('should call the Nest handler without the Express middleware when the route is hot', async () => {
    const res = await post('/hot');
    expect(res).toMatchObject({ status: 200, body: 'hot' });
    expect(res.headers['x-prepared']).toBe('yes');
    expect(res.headers['x-through-express']).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('should run the route guard and exception filter when the route is hot', async () => {
    expect(await post('/hot', { 'x-deny': 'yes' })).toMatchObject({
      status: 418,
      body: 'filtered: denied by the guard',
    });
    expect(await post('/hot', { 'x-throw': 'yes' })).toMatchObject({
      status: 418,
      body: 'filtered: thrown by the handler',
    });
  });

  it('should go through Express when the request carries an Origin header', async () => {
    const res = await post('/hot', { origin: 'http://localhost:3000' });
    expect(res).toMatchObject({ status: 200, body: 'hot' });
    expect(res.headers['x-through-express']).toBe('yes');
    expect(res.headers['x-prepared']).toBeUndefined();
  });

  it('should go through Express when the route is not hot, has a query string or is unknown', async () => {
    for (const path of ['/cold', '/hot?x=1', '/missing']) {
      const res = await post(path);
      expect(res.headers['x-through-express']).toBe('yes');
      expect(res.headers['x-prepared']).toBeUndefined();
    }
    expect((await post('/cold')).body).toBe('cold');
    expect((await post('/hot?x=1')).body).toBe('hot');
    expect((await post('/missing')).status).toBe(404);
  });
});
