/**
 * What `parley` exits with, so scripts can branch without parsing text. A domain refusal (out
 * of stock, over budget, vote on a closed proposal) is a decision, not an error, but a script
 * still wants to know: it exits REJECTED.
 */
export const EXIT = {
  ok: 0,
  /** Anything not listed below: a bug, or an answer we did not expect. */
  failed: 1,
  /** Bad command line: unknown command or option, missing argument. */
  usage: 2,
  notFound: 3,
  /** 409 (version mismatch, membership refused) or a decision answered `rejected`. */
  rejected: 4,
  /** No leader, no quorum, timeout, rate limited, or nothing listening: try again later. */
  unavailable: 5,
  /** 401 or 403: no key, a wrong key, or a role that may not do this. */
  unauthorized: 6,
  /** `parley request`: accepted (respond-async) and not decided yet. */
  pending: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a message and a meaningful exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The exit code a REST status means. */
export function exitCodeOf(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.rejected;
  if (status === 429 || status === 503 || status === 504) return EXIT.unavailable;
  if (status === 400 || status === 413) return EXIT.usage;
  return EXIT.failed;
}
