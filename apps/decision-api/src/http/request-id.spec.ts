import { Logger } from '@nestjs/common';
import { requestIdMiddleware } from './request-id';

function exchange() {
  const request = {
    method: 'PUT',
    originalUrl: '/v1/kv/a?x=1',
    headers: {} as Record<string, string>,
  };
  const headers = new Map<string, string>();
  const listeners: Array<() => void> = [];
  const response = {
    statusCode: 200,
    setHeader: (name: string, value: string) => headers.set(name, value),
    on: (_event: 'finish', fn: () => void) => listeners.push(fn),
  };
  let nexts = 0;
  requestIdMiddleware(request, response, () => (nexts += 1));
  return { request, headers, listeners, nexts };
}

describe('requestIdMiddleware', () => {
  afterEach(() => Logger.overrideLogger(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']));

  it('gives every request an id, echoes it, and writes one access line when it ends', () => {
    Logger.overrideLogger(['log', 'error', 'warn']);
    const { request, headers, listeners, nexts } = exchange();
    expect(nexts).toBe(1);
    expect(request.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers.get('X-Request-Id')).toBe(request.headers['x-request-id']);
    expect(listeners).toHaveLength(1);
    const line = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      listeners[0]();
      expect(line).toHaveBeenCalledTimes(1);
      expect(String(line.mock.calls[0][0])).toMatch(
        new RegExp(`^PUT /v1/kv/a 200 [0-9.]+ms request=${request.headers['x-request-id']}$`),
      );
    } finally {
      line.mockRestore();
    }
  });

  it('does not wait for the end of a request whose access line would be dropped', () => {
    Logger.overrideLogger(['error', 'warn']);
    const { request, headers, listeners, nexts } = exchange();
    expect(nexts).toBe(1);
    expect(headers.get('X-Request-Id')).toBe(request.headers['x-request-id']);
    expect(listeners).toHaveLength(0);
  });
});
