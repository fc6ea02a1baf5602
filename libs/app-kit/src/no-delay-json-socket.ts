import { JsonSocket } from '@nestjs/microservices/helpers';
import type { JsonSocketOptions } from '@nestjs/microservices/helpers/json-socket';
import type { Socket } from 'node:net';

/**
 * Nest's JSON framing over TCP with Nagle's algorithm off. The RPC between decision-api and
 * command-log is request/response with several requests in flight on one connection: with
 * Nagle on, a small request written while an earlier one is unacknowledged waits for that
 * acknowledgement (a delayed ACK on the other side) before it leaves.
 */
export class NoDelayJsonSocket extends JsonSocket {
  constructor(socket: Socket, options?: JsonSocketOptions) {
    super(socket, options);
    socket.setNoDelay(true);
  }
}
