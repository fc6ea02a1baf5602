/**
 * How the examples find the cluster `npm start` runs: its decision-api at PARLEY_URL (default
 * http://127.0.0.1:18001; several, comma-separated, to fail over) and the agent key from
 * PARLEY_API_KEY or the cluster's data folder (PARLEY_DATA_DIR, default .data), where
 * `npm start` keeps it. Read once, here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParleyClient } from '@parley/client';

export function connect(): ParleyClient {
  const endpoints = (process.env.PARLEY_URL ?? 'http://127.0.0.1:18001').split(',');
  const secrets = join(process.env.PARLEY_DATA_DIR ?? '.data', 'local-secrets.json');
  const apiKey =
    process.env.PARLEY_API_KEY ??
    (existsSync(secrets)
      ? (JSON.parse(readFileSync(secrets, 'utf8')) as { agentKey?: string }).agentKey
      : undefined);
  if (!apiKey) throw new Error(`no API key: set PARLEY_API_KEY or run \`npm start\` (${secrets})`);
  return new ParleyClient({ endpoints, apiKey, requestIdPrefix: 'example' });
}

/** A short run id, so an example can be run again against the same cluster. */
export const runId = () => Date.now().toString(36);
