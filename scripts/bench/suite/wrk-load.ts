/**
 * wrk (Debian's package, scripts/infra/wrk.sh) as a closed-loop load generator: `clients`
 * keep-alive connections for a fixed time, the requests built by a Lua script generated from
 * templates, the figures printed by that script as one JSON line. A compiled generator costs
 * about a third of node:http's CPU per request on the cores the servers share.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One kind of request. In `path` and `body`: `{n}` is unique per request in the run (thread and
 * counter), `{k}` cycles through 0..keys-1, `{K}` is `keyed[{k}]` (e.g. base64 keys for etcd).
 */
export interface WrkWorkload {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  keys?: number;
  keyed?: string[];
}

export interface WrkOptions {
  url: string;
  clients: number;
  seconds: number;
  workload: WrkWorkload;
  /** wrk threads (default 2: one per core of the machine the suite runs on). */
  threads?: number;
}

export interface WrkResult {
  /** Every answer wrk read, whatever its status. */
  requests: number;
  /** Answers with a status below 400 and no socket error or timeout. */
  ok: number;
  failed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

let wrkPath: string | undefined;

/** The wrk binary, installed through scripts/infra/wrk.sh on first use. */
export function wrkBinary(): string {
  wrkPath ??= execFileSync('bash', [join(__dirname, '..', '..', 'infra', 'wrk.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return wrkPath;
}

/** A Lua string literal. */
const lua = (text: string) => JSON.stringify(text).replace(/\\u([0-9a-f]{4})/gi, '\\u{$1}');

/** A template as a Lua expression over the locals `n`, `k` and the table `K`. */
function luaTemplate(template: string): string {
  const parts = template.split(/(\{n\}|\{k\}|\{K\})/).filter((part) => part !== '');
  if (parts.length === 0) return '""';
  return parts
    .map((part) =>
      part === '{n}'
        ? 'n'
        : part === '{k}'
          ? 'tostring(k)'
          : part === '{K}'
            ? 'K[k + 1]'
            : lua(part),
    )
    .join(' .. ');
}

/** The Lua script for one workload (exported for its unit test). */
export function wrkScript(workload: WrkWorkload, runId: string): string {
  const keys = workload.keyed?.length ?? workload.keys ?? 1000;
  const headers = {
    ...(workload.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...workload.headers,
  };
  return [
    `local K = { ${(workload.keyed ?? []).map(lua).join(', ')} }`,
    `local counter = 0`,
    `local next_thread = 0`,
    ...Object.entries(headers).map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`),
    // setup runs in the main state, once per thread; `thread:set` makes a global in the thread's.
    `function setup(thread) thread:set("tid", next_thread); next_thread = next_thread + 1 end`,
    `function request()`,
    `  counter = counter + 1`,
    `  local n = ${lua(runId)} .. "-" .. tid .. "-" .. counter`,
    `  local k = counter % ${keys}`,
    `  return wrk.format(${lua(workload.method)}, ${luaTemplate(workload.path)}, nil, ${
      workload.body === undefined ? 'nil' : luaTemplate(workload.body)
    })`,
    `end`,
    `function done(summary, latency, requests)`,
    `  local e = summary.errors`,
    `  io.write(string.format('WRK_JSON {"requests":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"p999":%d}\\n',`,
    `    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,`,
    `    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))`,
    `end`,
  ].join('\n');
}

/** Runs wrk once and reads its figures. */
export async function wrkLoad(options: WrkOptions): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-wrk-'));
  const script = join(dir, 'load.lua');
  writeFileSync(
    script,
    wrkScript(
      options.workload,
      `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    ),
  );
  const threads = Math.min(options.threads ?? 2, options.clients);
  const args = [
    `-t${threads}`,
    `-c${options.clients}`,
    `-d${options.seconds}s`,
    '--timeout',
    '30s',
    '-s',
    script,
    options.url,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrkBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`)),
    );
  });
  const line = /^WRK_JSON (.*)$/m.exec(output)?.[1];
  if (!line) throw new Error(`wrk printed no figures: ${output}`);
  const r = JSON.parse(line) as Record<string, number>;
  const failed = r.status + r.connect + r.read + r.write + r.timeout;
  const seconds = r.us / 1e6;
  return {
    requests: r.requests,
    ok: Math.max(0, r.requests - r.status),
    failed,
    seconds,
    perSecond: Math.max(0, r.requests - r.status) / seconds,
    p50Ms: r.p50 / 1000,
    p99Ms: r.p99 / 1000,
    p999Ms: r.p999 / 1000,
  };
}
