import { createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** One alert as the receiver got it. */
export interface ReceivedAlert {
  kind: string;
  body: Record<string, unknown>;
  validSignature: boolean;
  headers: IncomingHttpHeaders;
}

/** A loopback webhook receiver that checks every signature itself (HMAC-SHA256 over `t.body`). */
export class AlertReceiver {
  readonly alerts: ReceivedAlert[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret: string): Promise<AlertReceiver> {
    const holder: { receiver?: AlertReceiver } = {};
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const header = String(request.headers['parley-signature'] ?? '');
        const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
        const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest();
        const validSignature = v1 !== undefined && timingSafeEqual(mac, Buffer.from(v1, 'hex'));
        const parsed = JSON.parse(body) as Record<string, unknown>;
        holder.receiver!.alerts.push({
          kind: String(parsed.kind),
          body: parsed,
          validSignature,
          headers: request.headers,
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    holder.receiver = new AlertReceiver(server, url);
    return holder.receiver;
  }

  kinds(): string[] {
    return this.alerts.map((a) => a.kind);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
