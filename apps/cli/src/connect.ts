import { ParleyClient, ParleyError } from '@parley/client';
import { CliError, EXIT, exitCodeOf } from './exit-codes';

/** The longest one command's call may take, retries included, before the CLI gives up. */
const CALL_DEADLINE_MS = 30_000;

/**
 * The CLI's Parley client: the same @parley/client agents use (retries with the same request
 * id, failover across every --url given, typed errors), with request ids that say "cli".
 */
export function connect(urls: string[], key: string | undefined): ParleyClient {
  return new ParleyClient({
    endpoints: urls,
    apiKey: key,
    requestIdPrefix: 'cli',
    deadlineMs: CALL_DEADLINE_MS,
    attemptTimeoutMs: CALL_DEADLINE_MS,
  });
}

/** A client error as the CLI reports it: the problem's detail and the exit code its status means. */
export function cliErrorOf(error: ParleyError): CliError {
  // No endpoint answered (or the client refused the arguments before sending): its own words.
  if (error.status === undefined) return new CliError(error.message, EXIT.unavailable);
  if (error.endpoint === undefined) return new CliError(error.message, exitCodeOf(error.status));
  return new CliError(
    `${error.operation} answered ${error.status}: ${error.detail}`,
    exitCodeOf(error.status),
    error.problem,
  );
}
