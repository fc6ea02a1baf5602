/** The Markdown page of a benchmark run: the machine, the floors and every table. */
import type { RaftCoreFigure } from '../raft-core';
import type { CodecFigure, LatencyFigure } from './floors';
import type { RecoveryFigure } from './recovery';

/** One load level's figures. */
export interface LevelFigure {
  clients: number;
  ok: number;
  failed: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  /**
   * CPU (user + system) of every server process of the system under load, from /proc before
   * and after the level, divided by the requests answered, in µs.
   */
  serverCpuUsPerRequest: number;
  firstFailure?: string;
}

type Level = LevelFigure;

interface Memory {
  atRestMiB: Record<string, number | null>;
  underLoad64MiB: Record<string, number | null>;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  settings: {
    wrkSecondsPerLevel: number;
    requestsPerLevel: number;
    levels: number[];
    secondsBoundPerLevel: number;
  };
  machine: Record<string, string | number>;
  floors: {
    fsync4KiB: LatencyFigure;
    tcpRoundTrip: LatencyFigure;
    httpRoundTrip: LatencyFigure;
    codec: CodecFigure;
  };
  raftCore: RaftCoreFigure[];
  parley: { put: Level[]; reservations: Level[]; increments: Level[]; memory: Memory };
  etcd: { put: Level[]; memory: Memory };
  comparison: {
    clients: number;
    throughputRatio: number;
    p50Ratio: number;
    p99Ratio: number;
    p999Ratio: number;
    cpuPerRequestRatio: number;
  }[];
  recovery?: RecoveryFigure;
  simulators?: Record<string, string>;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '-');
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');

function levels(rows: Level[]): string {
  return [
    '| clients | ok | failed | requests/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/request |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.clients} | ${r.ok} | ${r.failed} | ${int(r.perSecond)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.p999Ms)} | ${int(r.serverCpuUsPerRequest)} |`,
    ),
  ].join('\n');
}

function memory(title: string, m: Memory): string {
  return Object.keys(m.atRestMiB)
    .map(
      (name) =>
        `| ${title} | ${name} | ${m.atRestMiB[name] ?? '-'} | ${m.underLoad64MiB[name] ?? '-'} |`,
    )
    .join('\n');
}

export function markdownReport(r: BenchResults): string {
  const f = r.floors;
  const lines = [
    `# Parley benchmark — ${r.startedAt}`,
    '',
    '## Machine',
    '',
    ...Object.entries(r.machine).map(([k, v]) => `- ${k}: ${v}`),
    `- strong writes (both systems): wrk, ${r.settings.wrkSecondsPerLevel} s per level after a warm-up, ` +
      `levels ${r.settings.levels.join('/')}; decision workloads: the node:http generator, ` +
      `${r.settings.requestsPerLevel} requests per level after a warm-up of max(200, 4 × clients) requests, ` +
      `each bounded by ${r.settings.secondsBoundPerLevel} s; one keep-alive connection per client; ` +
      'the load generator runs on the same machine. Server CPU per request: user + system time of ' +
      "every one of the system's server processes (/proc), before and after the level, over the requests",
    '',
    '## Floors',
    '',
    '| what | p50 ms | p99 ms |',
    '|---|---:|---:|',
    `| fdatasync'd 4 KiB append | ${ms(f.fsync4KiB.p50Ms)} | ${ms(f.fsync4KiB.p99Ms)} |`,
    `| loopback TCP round trip (64 B) | ${ms(f.tcpRoundTrip.p50Ms)} | ${ms(f.tcpRoundTrip.p99Ms)} |`,
    `| HTTP keep-alive round trip (Node server, empty handler) | ${ms(f.httpRoundTrip.p50Ms)} | ${ms(f.httpRoundTrip.p99Ms)} |`,
    '',
    `Codec: kv.put command (${f.codec.commandBytes} B) encode+decode ${int(f.codec.commandOpsPerSecond)}/s; ` +
      `append message carrying it (${f.codec.peerMessageBytes} B) encode+decode ${int(f.codec.peerMessageOpsPerSecond)}/s.`,
    '',
    '## Raft core in-process (3 replicas, zero-latency network)',
    '',
    '| mode | commits/s | commit round p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
    ...r.raftCore.map(
      (c) =>
        `| ${c.label} | ${int(c.commitsPerSecond)} | ${c.commitRoundP50Ms.toFixed(3)} | ${c.commitRoundP99Ms.toFixed(3)} |`,
    ),
    '',
    '## Strong writes: Parley `PUT /v1/kv/{key}` vs etcd `POST /v3/kv/put`, same run',
    '',
    '### Parley (decision-api → command-log leader, 3 replicas, fsync on)',
    '',
    levels(r.parley.put),
    '',
    '### etcd (3 members, v3 JSON gateway, fsync on)',
    '',
    levels(r.etcd.put),
    '',
    '### Parley / etcd',
    '',
    '| clients | throughput ratio | p50 ratio | p99 ratio | p99.9 ratio | server CPU per request ratio |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.comparison.map(
      (c) =>
        `| ${c.clients} | ${c.throughputRatio} | ${c.p50Ratio} | ${c.p99Ratio} | ${c.p999Ratio} | ${c.cpuPerRequestRatio} |`,
    ),
    '',
    '![throughput, p99 and server CPU per request against clients](chart.svg)',
    '',
    '## Decision workloads through REST (Parley)',
    '',
    '### Reservations (strong)',
    '',
    levels(r.parley.reservations),
    '',
    '### Counter increments (eventual, 202 once fsynced on one crdt replica)',
    '',
    levels(r.parley.increments),
    '',
    '## Memory (RSS, MiB)',
    '',
    '| system | process | at rest | peak under 64 clients |',
    '|---|---|---:|---:|',
    memory('Parley', r.parley.memory),
    memory('etcd', r.etcd.memory),
    '',
  ];
  if (r.recovery)
    lines.push(
      '## Recovery',
      '',
      `A replica holding ${int(r.recovery.entries)} applied kv.put entries ` +
        `(${int(r.recovery.walBytesWritten / 2 ** 20)} MiB of commands in the WAL): restart to fully ` +
        `applied from the WAL alone ${r.recovery.fromWalSeconds.toFixed(1)} s ` +
        `(${r.recovery.fromWalCpuSeconds?.toFixed(1) ?? '-'} CPU s); again from its newest ` +
        `snapshot plus the WAL tail ${r.recovery.fromSnapshotSeconds.toFixed(1)} s ` +
        `(${r.recovery.fromSnapshotCpuSeconds?.toFixed(1) ?? '-'} CPU s); ` +
        `RSS afterwards ${r.recovery.rssAfterMiB?.toFixed(0) ?? '-'} MiB.`,
      '',
    );
  if (r.simulators)
    for (const [name, text] of Object.entries(r.simulators))
      lines.push(`## Simulator: ${name}`, '', '```', text.trim(), '```', '');
  lines.push(`Finished ${r.finishedAt}.`, '');
  return lines.join('\n');
}
