import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpRequestContext } from './http-context';

function exchange(headers: Record<string, string> = {}) {
  const req = { headers } as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), {
    writableFinished: false,
    headersSent: false,
    setHeader: jest.fn(),
  });
  return { req, res, ctx: new HttpRequestContext(req, res as unknown as ServerResponse) };
}

describe(HttpRequestContext.name, () => {
  it('should take id, app and cache directives from the request and echo the id', () => {
    const { res, ctx } = exchange({
      'x-request-id': 'req-42',
      'x-mana-app': 'todo',
      'cache-control': 'no-cache',
    });
    expect([ctx.requestId, ctx.app, ctx.cache]).toEqual(['req-42', 'todo', { read: false, write: true }]);
    expect(res.setHeader).toHaveBeenCalledWith('x-request-id', 'req-42');
  });

  it('should abort the signal and call the leave hook once when the client goes before the end', () => {
    const { res, ctx } = exchange();
    const signal = ctx.signal;
    const leave = jest.fn();
    ctx.onClientGone(leave);
    res.emit('close');
    res.emit('close');
    expect(signal.aborted).toBe(true);
    expect(leave).toHaveBeenCalledTimes(1);
  });

  it('should hand out an aborted signal, and call a late hook at once, after the client left', () => {
    const { res, ctx } = exchange();
    res.emit('close');
    const leave = jest.fn();
    ctx.onClientGone(leave);
    expect(ctx.signal.aborted).toBe(true);
    expect(leave).toHaveBeenCalledTimes(1);
  });

  it('should not fire when the response finished before the connection closed', () => {
    const { res, ctx } = exchange();
    const leave = jest.fn();
    ctx.onClientGone(leave);
    res.writableFinished = true;
    res.emit('close');
    expect(ctx.signal.aborted).toBe(false);
    expect(leave).not.toHaveBeenCalled();
  });

  it('should cancel like a client gone when aborted by a shutdown', () => {
    const { ctx } = exchange();
    const leave = jest.fn();
    ctx.onClientGone(leave);
    ctx.abort();
    expect(ctx.signal.aborted).toBe(true);
    expect(leave).toHaveBeenCalledTimes(1);
  });
});
