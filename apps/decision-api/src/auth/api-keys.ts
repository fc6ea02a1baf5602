import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Problem } from '../http/problem';

export type Role = 'agent' | 'reader' | 'operator';
export const ROLES = 'parley:roles';

/** The roles allowed on a route; SPEC §3: agent writes, reader reads, operator runs the cluster. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

/** Keys are compared by SHA-256 digest in constant time, so timing leaks neither key nor length. */
export class ApiKeys {
  private readonly keys: { digest: Buffer; role: Role }[];

  constructor(keys: { key: string; role: Role }[]) {
    this.keys = keys.map(({ key, role }) => ({ digest: digest(key), role }));
  }

  /** The role of a key given by its SHA-256 digest (the guard keeps the digest for others). */
  roleOfDigest(candidate: Buffer): Role | undefined {
    let found: Role | undefined;
    for (const { digest: known, role } of this.keys)
      if (timingSafeEqual(known, candidate)) found = role;
    return found;
  }
}

export function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

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
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string | undefined>;
      role?: Role;
      apiKeyDigest?: Buffer;
    }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9._~-]{1,256})$/.exec(header);
    if (match) request.apiKeyDigest = digest(match[1]);
    const role = request.apiKeyDigest ? this.keys.roleOfDigest(request.apiKeyDigest) : undefined;
    if (!role)
      throw new Problem(
        401,
        'Unauthorized',
        'a valid API key is required: Authorization: Bearer <key>',
      );
    if (!allowed.includes(role))
      throw new Problem(403, 'Forbidden', `the ${role} role may not use this route`);
    request.role = role;
    return true;
  }
}
