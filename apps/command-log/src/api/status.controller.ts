import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Role } from '@parley/raft';
import { ReplicaService } from '../replica.service';

/** Operator-facing HTTP views of this replica (the REST API proper lives in decision-api). */
@Controller()
export class StatusController {
  constructor(private readonly service: ReplicaService) {}

  @Get('v1/status')
  status() {
    const status = this.service.replica.status();
    return {
      id: status.id,
      role: status.role,
      term: status.term,
      leader: status.lead || null,
      commitIndex: status.commit,
      appliedIndex: status.appliedIndex,
      lastIndex: status.lastIndex,
      voters: status.confState.voters,
      learners: status.confState.learners,
      lastContactMs: Object.fromEntries(status.lastContactMs),
      // Leader only: which members answered within an election timeout (the strict
      // reconfiguration check refuses changes that would leave too few of them).
      reachable: Object.fromEntries([...status.progress].map(([id, p]) => [id, p.reachable])),
      firstIndex: status.firstIndex,
      snapshotsInstalled: this.service.replica.snapshotsInstalled,
      leaseReadsDowngraded: this.service.replica.leaseReadsDowngraded,
      walTruncated: this.service.walTruncated ?? null,
      snapshotPendingUpload: this.service.pendingUpload() ?? null,
      kafkaMirror: this.service.mirrorBreakerState(),
      walSyncs: this.service.replica.walSyncs(),
      memoryRssBytes: process.memoryUsage.rss(),
    };
  }

  /** Ready when a leader is known and, on a follower, heard from within two election timeouts. */
  @Get('health/ready')
  ready() {
    const replica = this.service.replica;
    const status = replica.status();
    const leaderKnown = status.lead !== '';
    const fresh = status.role === Role.Leader || replica.stalenessMs() < 5_000;
    const body = {
      status: leaderKnown && fresh ? 'ok' : 'error',
      info: {},
      error: {},
      details: {
        raft: {
          status: leaderKnown && fresh ? 'up' : 'down',
          leader: status.lead || null,
          role: status.role,
        },
      },
    };
    if (!leaderKnown || !fresh) throw new ServiceUnavailableException(body);
    return body;
  }
}
