import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { KafkaMirror } from './mirror/kafka-mirror';
import { EntryType, Role } from '@parley/raft';
import { ReplicaDriver } from '@parley/replica';
import { peerTlsFrom } from '@parley/app-kit';
import { InlineWrites } from '@parley/common';
import {
  FsSnapshotStore,
  S3SnapshotStore,
  SnapshotStore,
  TieredSnapshotStore,
} from '@parley/snapshot';
import { AddressBook } from './address-book';
import { CommandLogConfig, heartbeatTicksOf } from './config';
import { DecisionStateMachineAdapter } from './decision-state-machine.adapter';
import { TcpPeerTransport } from './peer-transport/peer-transport';
import { SYSTEM_CLOCK } from './system-clock';
import { Wal } from './wal/wal';
import { DecisionRing } from './watch/decision-ring';

/** Owns this process's replica: opens the WAL and snapshots, starts it, stops it cleanly. */
@Injectable()
export class ReplicaService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Replica');
  private replicaInstance: ReplicaDriver | undefined;
  private clock: NodeJS.Timeout | undefined;
  private tiered: TieredSnapshotStore | undefined;
  private mirror: KafkaMirror | undefined;
  /** What WAL replay dropped from a torn tail at start-up, if anything. */
  walTruncated: { segment: string; offset: number; reason: string } | undefined;
  readonly stateMachine: DecisionStateMachineAdapter;
  /** The recent decision events the watch reads (RPC command-log.watch). */
  readonly decisionRing: DecisionRing;

  constructor(private readonly config: ConfigService<CommandLogConfig, true>) {
    const get = <K extends keyof CommandLogConfig>(key: K) => this.config.get(key, { infer: true });
    this.stateMachine = new DecisionStateMachineAdapter(
      {
        sessions: {
          windowMs: get('PARLEY_IDEMPOTENCY_WINDOW_MS'),
          idsMax: get('PARLEY_IDEMPOTENCY_IDS_MAX'),
          horizonIdsMax: get('PARLEY_IDEMPOTENCY_HORIZON_IDS_MAX'),
        },
      },
      get('PARLEY_COMMAND_FORMAT'),
    );
    this.decisionRing = new DecisionRing(get('PARLEY_WATCH_RING_EVENTS_MAX'));
  }

  get replica(): ReplicaDriver {
    if (!this.replicaInstance) throw new Error('replica not started');
    return this.replicaInstance;
  }

  async onApplicationBootstrap(): Promise<void> {
    const get = <K extends keyof CommandLogConfig>(key: K) => this.config.get(key, { infer: true });
    const id = get('PARLEY_NODE_ID');
    const dataDir = join(get('PARLEY_DATA_DIR'), id);
    const peers = get('PARLEY_PEERS') ?? [
      { id, host: get('PARLEY_HTTP_HOST'), port: get('PARLEY_PEER_PORT') },
    ];
    if (!peers.some((p) => p.id === id))
      throw new Error(`PARLEY_PEERS does not list this node (${id})`);
    const logger = {
      log: (m: string) => this.logger.debug(m),
      warn: (m: string) => this.logger.warn(m),
      error: (m: string) => this.logger.error(m),
    };
    const { wal, replay } = await Wal.open({
      dir: join(dataDir, 'wal'),
      segmentBytesMax: 64 * 1024 * 1024,
      fsync: get('PARLEY_WAL_FSYNC'),
      syncDelayMs: get('PARLEY_WAL_SYNC_DELAY_MS'),
      inlineWrites: InlineWrites.withLimitUs(get('PARLEY_INLINE_WRITE_MAX_US')),
      logger,
    });
    // Without a Kafka mirror (which publishes every entry's events) no one reads the events
    // of replayed entries older than the watch ring keeps: they are not computed.
    if (!get('PARLEY_KAFKA_BROKERS'))
      this.stateMachine.eventsSkippedThrough =
        replay.hardState.commit - get('PARLEY_WATCH_RING_EVENTS_MAX');
    if (replay.truncated)
      this.logger.warn(
        `WAL tail truncated at ${replay.truncated.segment}@${replay.truncated.offset}`,
      );
    const secret = get('PARLEY_CLUSTER_SECRET');
    const self = peers.find((p) => p.id === id)!;
    this.replicaInstance = new ReplicaDriver({
      id,
      initialPeers: new Map(peers.map((p) => [p.id, { host: p.host, port: p.port }])),
      join: get('PARLEY_JOIN'),
      addressBook: new AddressBook(dataDir),
      wal,
      recovered: replay,
      snapshotStore: await this.snapshotStore(dataDir, id),
      stateMachine: this.stateMachine,
      transport: (onMessage, onUnreachable) =>
        new TcpPeerTransport({
          selfId: id,
          host: get('PARLEY_HTTP_HOST'),
          port: get('PARLEY_PEER_PORT') ?? self.port,
          secret,
          peers: new Map(),
          onMessage,
          onUnreachable,
          logger,
          random: Math.random,
          tls: peerTlsFrom((key) => get(key)),
        }),
      clock: SYSTEM_CLOCK,
      random: { nextInt: (max) => randomInt(max) },
      tickMs: get('PARLEY_TICK_MS'),
      electionTicks: get('PARLEY_ELECTION_TICKS'),
      heartbeatTicks: heartbeatTicksOf({
        PARLEY_HEARTBEAT_TICKS: get('PARLEY_HEARTBEAT_TICKS'),
        PARLEY_ELECTION_TICKS: get('PARLEY_ELECTION_TICKS'),
      }),
      snapshotEveryEntries: get('PARLEY_SNAPSHOT_EVERY_ENTRIES'),
      compactionTailEntries: get('PARLEY_COMPACTION_TAIL_ENTRIES'),
      inboxBatchMax: 10_000,
      pendingProposalsMax: 100_000,
      logger,
      onApplied: (entry, outcome) => {
        const applied = this.stateMachine.lastApplied;
        const decided = applied?.index === entry.index ? applied.events : [];
        // Every entry, deciding or not: the ring knows which indexes it covers (from the
        // first whose events were computed).
        if (entry.index > this.stateMachine.eventsSkippedThrough)
          this.decisionRing.applied(entry.index, decided);
        if (entry.type === EntryType.Normal && entry.data.length > 0)
          this.mirrorApplied(entry.index, entry.term, outcome);
      },
      // The replica stopped (a failed write, a broken invariant): the process dies with the
      // error, and a supervisor restarts it from its disk.
      onFatal: (error) => {
        process.exitCode = 1;
        setImmediate(() => {
          throw error;
        });
      },
      snapshotFloor: () => this.mirror?.floor(),
      snapshotHoldEntriesMax: get('PARLEY_MIRROR_LAG_MAX_ENTRIES'),
    });
    this.mirror = await this.createMirror(id);
    await this.replicaInstance.start();
    this.mirror?.start();
    this.walTruncated = replay.truncated;
    // The leader writes its clock into the log, so proposal deadlines fire on every replica
    // at the same index even when no other command arrives.
    this.clock = setInterval(() => {
      const replica = this.replicaInstance;
      if (!replica || replica.status().role !== Role.Leader) return;
      void replica.propose(this.stateMachine.encodeOwnCommand({ type: 'clock', ts: Date.now() }));
    }, get('PARLEY_CLOCK_INTERVAL_MS'));
    this.clock.unref();
    this.logger.log(`replica ${id} started; peers on ${get('PARLEY_PEER_PORT')}`);
  }

  /**
   * Snapshots go to local disk, and also to S3 when PARLEY_S3_ENDPOINT is set: uploads run in
   * the background behind a breaker, so an S3 outage never stops the replica.
   */
  private async snapshotStore(dataDir: string, id: string): Promise<SnapshotStore> {
    const get = <K extends keyof CommandLogConfig>(key: K) => this.config.get(key, { infer: true });
    const local = new FsSnapshotStore(join(dataDir, 'snapshots'), 3);
    const endpoint = get('PARLEY_S3_ENDPOINT');
    if (!endpoint) return local;
    const accessKeyId = get('PARLEY_S3_ACCESS_KEY_ID');
    const secretAccessKey = get('PARLEY_S3_SECRET_ACCESS_KEY');
    if (!accessKeyId || !secretAccessKey) {
      throw new Error(
        'PARLEY_S3_ACCESS_KEY_ID and PARLEY_S3_SECRET_ACCESS_KEY are required with PARLEY_S3_ENDPOINT',
      );
    }
    // Required here, with S3 configured, not imported at the top: the SDK is ~20 MiB resident.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { S3Client } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint,
      region: get('PARLEY_S3_REGION'),
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 2,
      // A dead or restarting endpoint must fail fast, not hold the upload loop for minutes:
      // no connection in 3 s, or a socket idle for 10 s, is a failed attempt (retried later).
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    });
    const remote = new S3SnapshotStore({
      client,
      bucket: get('PARLEY_S3_BUCKET'),
      prefix: id,
      retain: 3,
      partBytes: 8 * 1024 * 1024,
    });
    await remote
      .ensureBucket()
      .catch((error: Error) =>
        this.logger.warn(`S3 bucket check failed (will retry on upload): ${error.message}`),
      );
    const bucketReady = { checked: false };
    const ensured: SnapshotStore = {
      save: async (snapshot) => {
        if (!bucketReady.checked) {
          await remote.ensureBucket();
          bucketReady.checked = true;
        }
        await remote.save(snapshot);
      },
      loadLatest: () => remote.loadLatest(),
      list: () => remote.list(),
    };
    this.tiered = new TieredSnapshotStore(
      local,
      ensured,
      { log: (m) => this.logger.log(m), warn: (m) => this.logger.warn(m) },
      30_000,
      get('PARLEY_S3_ATTEMPT_TIMEOUT_MS'),
    );
    return this.tiered;
  }

  private async createMirror(id: string): Promise<KafkaMirror | undefined> {
    const brokers = this.config.get('PARLEY_KAFKA_BROKERS', { infer: true });
    if (!brokers) return undefined;
    // Required here, with brokers configured, not imported at the top: kafkajs is ~13 MiB
    // resident.
    type MirrorModule = typeof import('./mirror/kafka-mirror');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { KafkaMirror } = require('./mirror/kafka-mirror') as MirrorModule;
    return new KafkaMirror({
      brokers,
      clusterId: this.config.get('PARLEY_CLUSTER_ID', { infer: true }),
      nodeId: id,
      rawLogTopic: 'raft-log',
      decisionsTopic: 'decisions',
      decisionsPartitions: this.config.get('PARLEY_KAFKA_DECISIONS_PARTITIONS', { infer: true }),
      replicationFactor: this.config.get('PARLEY_KAFKA_REPLICATION_FACTOR', { infer: true }),
      bufferedRecordsMax: 1_000_000,
      // One Kafka transaction costs the broker a few round trips whatever it holds: large ones
      // keep up with the log (500 a transaction fell behind at ~1,300 writes/s).
      batchRecordsMax: 5_000,
      lingerMs: this.config.get('PARLEY_KAFKA_MIRROR_LINGER_MS', { infer: true }),
      isLeader: () => this.replicaInstance?.status().role === Role.Leader,
      replicatedCursor: () => this.stateMachine.mirroredIndex(),
      proposeCursor: (index) =>
        void this.replicaInstance?.propose(
          this.stateMachine.encodeOwnCommand({ type: 'mirror.cursor', ts: Date.now(), index }),
        ),
      logger: {
        log: (m) => this.logger.log(m),
        warn: (m) => this.logger.warn(m),
        error: (m) => this.logger.error(m),
      },
    });
  }

  private mirrorApplied(index: number, term: number, outcome: unknown): void {
    const applied = this.stateMachine.lastApplied;
    if (!this.mirror || applied?.index !== index) return;
    const { result, replayed } = outcome as { result: unknown; replayed: boolean };
    const { command, events } = applied;
    this.mirror.record({ index, term, command, result, replayed, events });
  }

  mirrorBreakerState(): string | null {
    return this.mirror?.breakerState() ?? null;
  }

  /** Index of a snapshot still waiting for S3 (for status and tests). */
  pendingUpload(): number | undefined {
    return this.tiered?.pendingUpload();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mirror?.stop();
    this.tiered?.close();
    if (this.clock) clearInterval(this.clock);
    await this.replicaInstance?.stop();
  }
}
