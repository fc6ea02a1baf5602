import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { RpcVerifier } from './rpc-auth';

/**
 * Lets a microservice request through only when its `auth` verifies (see rpc-auth.ts), then
 * strips `auth` so handlers see the plain body. Whatever the transport names the subject (a
 * NATS subject may carry a node prefix), the mac covers the handler's own pattern.
 */
@Injectable()
export class RpcAuthGuard implements CanActivate {
  private readonly logger = new Logger('RpcAuth');

  constructor(private readonly verifier: RpcVerifier) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'rpc') return true;
    const patterns = Reflect.getMetadata(PATTERN_METADATA, context.getHandler()) as unknown[];
    const pattern = typeof patterns?.[0] === 'string' ? patterns[0] : '';
    const data = context.switchToRpc().getData<Record<string, unknown>>();
    const verdict = this.verifier.verify(pattern, data);
    if (!verdict.ok) {
      this.logger.warn(`refused ${pattern}: ${verdict.reason}`);
      throw new RpcException({ status: 'unauthorized', reason: verdict.reason });
    }
    delete data.auth;
    return true;
  }
}
