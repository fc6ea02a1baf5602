import { AddressInfo, Server, Socket, createServer, connect } from 'node:net';

/**
 * A TCP proxy on one directed peer link (replica A → replica B) that the nemesis can cut:
 * while cut, every open connection is destroyed and new ones are closed at once, so A's
 * messages to B are lost (B's to A travel on B's own link). Used for partitions: both links
 * of a pair cut is a full split, one link cut is a one-way partition.
 */
export class FaultProxy {
  private cut = false;
  private readonly open = new Set<Socket>();

  private readonly server: Server;
  port = 0;

  private constructor(targetPort: () => number) {
    this.server = createServer((inbound) => this.accept(inbound, targetPort()));
  }

  static async start(targetPort: () => number): Promise<FaultProxy> {
    const proxy = new FaultProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  private accept(inbound: Socket, targetPort: number): void {
    if (this.cut) {
      inbound.destroy();
      return;
    }
    const outbound = connect(targetPort, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      this.open.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => this.open.delete(socket));
      socket.on('error', () => undefined);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  }

  get isCut(): boolean {
    return this.cut;
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.setCut(true);
    await new Promise((resolve) => this.server.close(resolve));
  }
}
