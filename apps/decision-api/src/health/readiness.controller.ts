import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { breakerStates } from '@parley/resilience';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { CrdtUpstream, GossipUpstream } from '../cluster-client/http-upstream';
import { AgentEventsConsumer } from '../kafka/agent-events.consumer';

/**
 * Readiness (Terminus format): ready only with a reachable quorum — a majority of the
 * command-log replicas answer and one of them leads — and the crdt replica and gossip member
 * answering when they are configured. Breaker states are reported alongside.
 */
@Controller('health')
export class ReadinessController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly log: CommandLogClient,
    private readonly crdt: CrdtUpstream,
    private readonly gossip: GossipUpstream,
    private readonly consumer: AgentEventsConsumer,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const quorum = this.indicators.check('quorum');
        const statuses = await this.log.statuses();
        const leader = statuses.find((s) => s.role === 'leader')?.id ?? null;
        const majority = Math.floor(this.log.nodeCount / 2) + 1;
        const details = { reachable: statuses.length, of: this.log.nodeCount, leader };
        return statuses.length >= majority && leader ? quorum.up(details) : quorum.down(details);
      },
      ...[this.crdt, this.gossip]
        .filter((upstream) => upstream.configured)
        .map((upstream) => async () => {
          const check = this.indicators.check(upstream.name);
          try {
            const { status } = await upstream.call('GET', '/health/live');
            return status === 200 ? check.up() : check.down({ httpStatus: status });
          } catch {
            return check.down({ reachable: false });
          }
        }),
      ...(this.consumer.configured
        ? [
            async () => {
              const kafka = this.indicators.check('kafka');
              const details = { consuming: this.consumer.running, lag: this.consumer.lag ?? null };
              return this.consumer.running ? kafka.up(details) : kafka.down(details);
            },
          ]
        : []),
      async () => this.indicators.check('breakers').up({ states: breakerStates() }),
    ]);
  }
}
