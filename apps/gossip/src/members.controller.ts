import { Controller, Get } from '@nestjs/common';
import { GossipService } from './gossip.service';

/** The membership view over HTTP: what decision-api serves as /v1/agents, and more. */
@Controller()
export class MembersController {
  constructor(private readonly gossip: GossipService) {}

  /** SPEC.md §3 shape: `[{id, status, incarnation}]`, agents and every other role. */
  @Get('v1/agents')
  agents() {
    return this.gossip
      .members()
      .map((m) => ({ id: m.id, status: m.state, incarnation: m.incarnation }));
  }

  @Get('v1/members')
  members() {
    const swim = this.gossip.swim;
    return {
      self: swim.id,
      health: swim.health,
      counters: { ...swim.counters, ...this.gossip.counters },
      members: swim.members().map((m) => ({
        id: m.id,
        status: m.state,
        incarnation: m.incarnation,
        address: m.address,
        meta: m.meta,
      })),
    };
  }

  /** The most recent membership changes this member saw (bounded). */
  @Get('v1/members/events')
  events() {
    return this.gossip.events();
  }
}
