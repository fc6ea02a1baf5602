import 'reflect-metadata';
import { AddressInfo, Socket, createServer } from 'node:net';
import { NoDelayJsonSocket } from './no-delay-json-socket';

describe('NoDelayJsonSocket', () => {
  it('frames JSON messages both ways over a real loopback connection, like JsonSocket', async () => {
    const server = createServer((raw) => {
      const socket = new NoDelayJsonSocket(raw);
      socket.on('message', (message: { n: number }) => socket.sendMessage({ echo: message.n }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const raw = new Socket();
    const client = new NoDelayJsonSocket(raw);
    const answers: number[] = [];
    const done = new Promise<void>((resolve) =>
      client.on('message', (message: { echo: number }) => {
        answers.push(message.echo);
        if (answers.length === 100) resolve();
      }),
    );
    await new Promise<void>((resolve) => raw.connect(port, '127.0.0.1', resolve));
    for (let n = 0; n < 100; n += 1) client.sendMessage({ n });
    await done;
    expect(answers).toEqual(Array.from({ length: 100 }, (_, n) => n));
    raw.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
});
