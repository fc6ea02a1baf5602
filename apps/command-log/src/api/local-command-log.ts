import { INestApplication } from '@nestjs/common';
import { LocalCommandLog, RPC } from '@parley/command-log-api';
import { RpcController } from './rpc.controller';

type Handler = (body: never) => unknown;

/**
 * The replica's microservice API for a decision-api in the same process (see LocalCommandLog):
 * the RpcController's handlers called directly. No signature is checked, as no network is
 * crossed. Each answer goes through JSON, as over TCP: the caller gets a copy that shares no
 * object with the state machine (a read answers with the live value), shaped exactly as a
 * remote replica's answer (no `undefined` fields).
 */
export function localCommandLogOf(app: INestApplication): LocalCommandLog {
  const rpc = app.get(RpcController);
  // Typed as a record over every pattern: a pattern added to RPC without a handler here fails the build.
  const handlers: Record<(typeof RPC)[keyof typeof RPC], Handler> = {
    [RPC.propose]: (body) => rpc.propose(body),
    [RPC.proposeBatch]: (body) => rpc.proposeBatch(body),
    [RPC.read]: (body) => rpc.read(body),
    [RPC.readBatch]: (body) => rpc.readBatch(body),
    [RPC.watch]: (body) => rpc.watch(body),
    [RPC.status]: () => rpc.status(),
    [RPC.transferLeadership]: (body) => rpc.transferLeadership(body),
    [RPC.addMember]: (body) => rpc.addMember(body),
    [RPC.removeMember]: (body) => rpc.removeMember(body),
    [RPC.snapshot]: () => rpc.snapshot(),
  };
  const known = new Map<string, Handler>(Object.entries(handlers));
  return {
    async call(pattern, body) {
      const handler = known.get(pattern);
      if (!handler) throw new Error(`command-log does not know ${pattern}`);
      const answer = await handler(body as never);
      return JSON.parse(JSON.stringify(answer)) as unknown;
    },
  };
}
