import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ParleyError } from '@parley/client';
import { cliErrorOf, connect } from './connect';
import * as commands from './commands';
import { CommandContext, Outcome } from './commands';
import { CliError, EXIT } from './exit-codes';
import { watch } from './watch';

const USAGE = `parley — operate a Parley cluster through decision-api

usage: parley <command> [arguments] [options]

commands:
  status                                  replicas, leader, term, gossip membership
  kv get <key> [--consistency c]          read a key (linearizable | lease | stale)
  kv put <key> <value> [--if-version n]   write a key (compare-and-set with --if-version)
  reserve <sku> <quantity> --order <id>   reserve inventory
  vote <proposal> <option> --agent <id> [--weight n]
                                          kv put, reserve and vote take --async: accepted
                                          now (its requestId printed), decided later
  request <requestId>                     a request sent with --async: its state while it
                                          waits (exit 7), then the answer it got
  members add <id> <host:port> [--learner] [--force]
                                          a new node joins as --learner first; adding a
                                          voter that would leave fewer reachable voters
                                          than a quorum is refused (exit 4) unless --force
  members remove <id> [--force]
  transfer-leadership [--to <id>]
  snapshot [--no-wait] [--wait-ms n]      take a snapshot, wait for its upload
  bench [--workload put|reserve|increment] [--requests n] [--concurrency n] [--seconds n]
  watch [--prefix P] [--types T] [--from N] [--count N]
                                          print decisions live as they are committed
                                          (entity prefixes and types comma-separated;
                                          --from: the last index already seen)

options:
  --url <url>        decision-api (default $PARLEY_URL or http://127.0.0.1:18001); several,
                     comma-separated, fail over to one another
  --key <key>        API key (default $PARLEY_API_KEY, else the local cluster's key
                     for the command's role, from --data-dir, default ./.data)
  --json             print JSON for scripts instead of tables
  --request-id <id>  idempotency key of a write (default: a fresh one per call)

exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 rejected or conflict,
            5 unavailable (no leader/quorum, timeout, rate limited, unreachable), 6 unauthorized,
            7 pending (parley request: accepted, not decided yet)`;

type Handler = (context: CommandContext) => Promise<Outcome>;
type Role = 'agent' | 'operator' | 'reader';

/**
 * Command words to handlers and the role each needs (SPEC §3: agents decide, operators run the
 * cluster); two-word commands ("kv get") are looked up first.
 */
const COMMANDS: Record<string, { handler: Handler; role: Role }> = {
  status: { handler: commands.status, role: 'operator' },
  'kv get': { handler: commands.kvGet, role: 'operator' },
  'kv put': { handler: commands.kvPut, role: 'agent' },
  reserve: { handler: commands.reserve, role: 'agent' },
  vote: { handler: commands.vote, role: 'agent' },
  request: { handler: commands.request, role: 'agent' },
  'members add': { handler: commands.membersAdd, role: 'operator' },
  'members remove': { handler: commands.membersRemove, role: 'operator' },
  'transfer-leadership': { handler: commands.transferLeadership, role: 'operator' },
  snapshot: { handler: commands.snapshot, role: 'operator' },
  bench: { handler: commands.bench, role: 'agent' },
  watch: { handler: watch, role: 'reader' },
};

/**
 * --key, $PARLEY_API_KEY, or the local cluster's key for the role the command needs (from
 * `npm start`'s data folder). Keys are never printed.
 */
function apiKey(
  options: Record<string, string | boolean | undefined>,
  role: Role,
): string | undefined {
  if (typeof options.key === 'string') return options.key;
  if (process.env.PARLEY_API_KEY) return process.env.PARLEY_API_KEY;
  const dataDir = typeof options['data-dir'] === 'string' ? options['data-dir'] : '.data';
  const secrets = join(dataDir, 'local-secrets.json');
  if (!existsSync(secrets)) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(secrets, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new CliError(`${secrets} is not valid JSON`, EXIT.usage);
  }
  const key = parsed[`${role}Key`];
  return typeof key === 'string' ? key : undefined;
}

function baseUrls(options: Record<string, string | boolean | undefined>): string[] {
  const given =
    (typeof options.url === 'string' ? options.url : undefined) ??
    process.env.PARLEY_URL ??
    'http://127.0.0.1:18001';
  return given.split(',').map((raw) => {
    try {
      const url = new URL(raw.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(url.protocol);
      return url.toString();
    } catch {
      throw new CliError(`--url must be an http(s) URL, got ${JSON.stringify(raw)}`, EXIT.usage);
    }
  });
}

export async function run(argv: string[]): Promise<number> {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        consistency: { type: 'string' },
        'if-version': { type: 'string' },
        'request-id': { type: 'string' },
        async: { type: 'boolean' },
        order: { type: 'string' },
        agent: { type: 'string' },
        weight: { type: 'string' },
        learner: { type: 'boolean' },
        force: { type: 'boolean' },
        to: { type: 'string' },
        'wait-ms': { type: 'string' },
        'no-wait': { type: 'boolean' },
        requests: { type: 'string' },
        concurrency: { type: 'string' },
        seconds: { type: 'string' },
        workload: { type: 'string' },
        prefix: { type: 'string' },
        types: { type: 'string' },
        from: { type: 'string' },
        count: { type: 'string' },
      },
    }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    };
    json = values.json === true;
    if (values.help || positionals.length === 0) {
      process.stdout.write(`${USAGE}\n`);
      return positionals.length === 0 && !values.help ? EXIT.usage : EXIT.ok;
    }
    const twoWords = positionals.slice(0, 2).join(' ');
    const [words, command] = COMMANDS[twoWords]
      ? [2, COMMANDS[twoWords]]
      : [1, COMMANDS[positionals[0]]];
    if (!command)
      throw new CliError(
        `unknown command "${positionals.join(' ')}"; see parley --help`,
        EXIT.usage,
      );
    const client = connect(baseUrls(values), apiKey(values, command.role));
    let outcome: Outcome;
    try {
      outcome = await command.handler({
        client,
        positionals: positionals.slice(words),
        options: values,
      });
    } catch (error) {
      throw error instanceof ParleyError ? cliErrorOf(error) : error;
    } finally {
      client.close();
    }
    if (!outcome.printed)
      process.stdout.write(`${json ? JSON.stringify(outcome.json, null, 2) : outcome.text}\n`);
    return outcome.exitCode ?? EXIT.ok;
  } catch (error) {
    const known = error instanceof CliError;
    const message = known
      ? error.message
      : (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? (error as Error).message
        : `unexpected error: ${(error as Error).stack ?? String(error)}`;
    const exitCode = known
      ? error.exitCode
      : (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? EXIT.usage
        : EXIT.failed;
    if (json) process.stdout.write(`${JSON.stringify({ error: message, exitCode }, null, 2)}\n`);
    process.stderr.write(`parley: ${message}\n`);
    return exitCode;
  }
}

if (require.main === module)
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
