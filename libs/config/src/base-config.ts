import { boundedInt, host, logLevel, nodeId, port } from './env-fields';
import { z } from 'zod';
import { httpTlsFields } from './tls-fields';

/** Settings every Parley app has: who it is, where it listens, where it keeps data, how it logs. */
export function baseFields(defaultHttpPort: number) {
  return {
    /** This node's id, unique in the cluster. */
    PARLEY_NODE_ID: nodeId('node-1'),
    /** Address the HTTP server (health, metrics, API) binds to. Loopback by default. */
    PARLEY_HTTP_HOST: host('127.0.0.1'),
    /** Port of the HTTP server. */
    PARLEY_HTTP_PORT: port(defaultHttpPort),
    /** Folder for this app's durable state; a per-node sub-folder is created inside. */
    PARLEY_DATA_DIR: z.string().min(1).default('.data').describe('a folder path'),
    PARLEY_LOG_LEVEL: logLevel(),
    /** `json` for one JSON object per line (containers), `text` for people. */
    PARLEY_LOG_FORMAT: z.enum(['json', 'text']).default('text').describe('json or text'),
    /** Largest accepted HTTP body, in bytes; larger bodies get 413. */
    PARLEY_HTTP_BODY_BYTES_MAX: boundedInt(1_048_576, 1_024, 67_108_864, 'bytes'),
    ...httpTlsFields(),
  };
}
