import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hash, timingSafeEqual } from 'node:crypto';
import { Problem } from '../http/problem';

export type Role = 'agent' | 'reader' | 'operator';
export const ROLES = 'parley:roles';

/** The roles allowed on a route; SPEC §3: agent writes, reader reads, operator runs the cluster. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

/** Who a key speaks for: its role and, for a bound agent key, the one agent it may vote as. */
export interface Caller {
  role: Role;
  agentId?: string;
}

/** Keys are compared by SHA-256 digest in constant time, so timing leaks neither key nor length. */
export class ApiKeys {
  private readonly keys: { digest: Buffer; caller: Caller }[];

  constructor(
    keys: { key: string; role: Role; agentId?: string }[],
    /** PARLEY_VOTES_REQUIRE_BOUND_KEY: only bound agent keys may vote. */
    private readonly votesRequireBoundKey = false,
  ) {
    this.keys = keys.map(({ key, role, agentId }) => ({
      digest: digest(key),
      caller: agentId === undefined ? { role } : { role, agentId },
    }));
  }

  /** The caller a key given by its SHA-256 digest stands for (the guard keeps the digest). */
  callerOfDigest(candidate: Buffer): Caller | undefined {
    let found: Caller | undefined;
    for (const { digest: known, caller } of this.keys)
      if (timingSafeEqual(known, candidate)) found = caller;
    return found;
  }

  /**
   * Whether `caller` may send this vote body (the trust model in the README): a key bound to an
   * agent votes only as that agent and never names a weight (weights come from the proposal's
   * policy); an unbound agent key may vote as any agent unless every vote must be bound.
   * Returns the 403 to answer, or undefined. Run before validation: a field that is missing or
   * malformed is left to the 400 that names it.
   */
  voteRefusal(caller: Caller | undefined, body: unknown): Problem | undefined {
    const bound = caller?.agentId;
    if (bound === undefined) {
      if (!this.votesRequireBoundKey) return undefined;
      return forbidden(
        'vote-key-not-bound',
        'votes need an agent key bound to the voting agent (agent@<agentId>:key); this key is not bound',
      );
    }
    const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (typeof fields.agentId === 'string' && fields.agentId !== bound)
      return forbidden(
        'agent-binding-mismatch',
        `this key is bound to agent ${bound} and may not vote as ${fields.agentId}`,
      );
    if (fields.weight !== undefined)
      return forbidden(
        'agent-binding-mismatch',
        `a key bound to an agent may not name a weight: weights come from the proposal's policy (policy.weights)`,
      );
    return undefined;
  }
}

function forbidden(type: string, detail: string): Problem {
  return new Problem(403, 'Forbidden', detail, { type });
}

/** SHA-256 in one call (no Hash object per request, as createHash would make). */
export function digest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** What the guard leaves on a request it let through. */
export interface AuthenticatedRequest {
  headers: Record<string, string | undefined>;
  role?: Role;
  caller?: Caller;
  apiKeyDigest?: Buffer;
}

/** The caller the guard let through (on whichever server's request object it ran). */
export const CallerOf = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().caller,
);

/** 401 without a valid `Authorization: Bearer <key>`, 403 when its role is not allowed here. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeys,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!allowed) return true; // health probes and docs
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9._~-]{1,256})$/.exec(header);
    if (match) request.apiKeyDigest = digest(match[1]);
    const caller = request.apiKeyDigest
      ? this.keys.callerOfDigest(request.apiKeyDigest)
      : undefined;
    const role = caller?.role;
    if (!caller || !role)
      throw new Problem(
        401,
        'Unauthorized',
        'a valid API key is required: Authorization: Bearer <key>',
      );
    if (!allowed.includes(role))
      throw new Problem(403, 'Forbidden', `the ${role} role may not use this route`);
    request.role = role;
    request.caller = caller;
    return true;
  }
}
