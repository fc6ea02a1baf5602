/**
 * Invariant assertions that stay on in production (TIGER_STYLE): a broken invariant is a bug,
 * and a bug must stop the process rather than be logged and ignored (DESIGN.md §3).
 */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = 'InvariantViolation';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

/** Marks a branch the type system proves unreachable; reaching it at run time is a bug. */
export function unreachable(value: never, what: string): never {
  throw new InvariantViolation(`unreachable ${what}: ${String(value)}`);
}
