/**
 * A client history: each operation with its invocation (`call`) and response (`return`) times
 * in one clock. An operation whose outcome is unknown (the client timed out or crashed) has
 * `return: Infinity` and no `output`: it may have taken effect at any point after its call,
 * or never (linearizing it last is the same as never, since nothing observes it after).
 */
export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  readonly call: number;
  readonly output?: O;
  readonly return: number;
}

export function isUnknown<I, O>(op: Operation<I, O>): boolean {
  return op.return === Infinity;
}
