import { ParleyBadRequest } from './errors';
import { ParleyClient } from './client';
import { routePath } from './routes';

describe('ParleyClient', () => {
  it('refuses bad options once, naming each', () => {
    expect(() => new ParleyClient({ endpoints: ['not a url'] })).toThrow(ParleyBadRequest);
    expect(() => new ParleyClient({ endpoints: [] })).toThrow(/endpoints/);
    expect(
      () => new ParleyClient({ endpoints: 'http://127.0.0.1:1', attemptsMax: 0 } as never),
    ).toThrow(/attemptsMax/);
  });

  it('makes one request id per logical operation, with its prefix', () => {
    const client = new ParleyClient({ endpoints: 'http://127.0.0.1:1', requestIdPrefix: 'bidder' });
    const [a, b] = [client.newRequestId(), client.newRequestId()];
    client.close();
    expect(a).toMatch(/^bidder-[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it('refuses a missing path parameter before sending', async () => {
    const client = new ParleyClient({ endpoints: 'http://127.0.0.1:1' });
    await expect(client.kv.get('')).rejects.toThrow(/the path parameter key is required/);
    client.close();
  });
});

describe('routePath', () => {
  it('fills and encodes path parameters', () => {
    expect(routePath('inventory.release', { sku: 'a/b', orderId: 'o 1' })).toBe(
      '/v1/inventory/a%2Fb/reservations/o%201',
    );
  });
});
