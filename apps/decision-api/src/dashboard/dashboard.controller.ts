import { Controller, Get, Header, MessageEvent, Sse } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EMPTY,
  Observable,
  catchError,
  exhaustMap,
  from,
  interval,
  map,
  shareReplay,
  startWith,
  timeout,
} from 'rxjs';
import { Roles } from '../auth/api-keys';
import { CommandLogClient } from '../cluster-client/command-log-client';
import { GossipUpstream } from '../cluster-client/http-upstream';
import { clusterView } from '../http/cluster-view';
import { AsyncRequests } from '../async/async-requests';
import { DecisionActivity } from './decision-activity';
import { WatchHub } from '../watch/watch-hub';
import { recentRow } from './recent-row';

/** Rows of the "recent decisions" table. */
const RECENT_ROWS = 20;

/** How often the dashboard's event stream sends a fresh view. */
const VIEW_EVERY_MS = 1_000;
/** A view that takes longer than this (a replica that never answers) is dropped. */
const VIEW_TIMEOUT_MS = 3_000;

/** The page and its script and style, read once at start (never on the request path). */
function asset(name: string): string {
  return readFileSync(join(__dirname, 'assets', name), 'utf8');
}

/**
 * The operator's dashboard (SPEC.md §3 `GET /`): a static page that asks for an API key, then
 * reads a live view of the cluster from an event stream (server-sent events, one view per
 * second). The page itself is public; the stream and the buttons need a key.
 */
@ApiTags('dashboard')
@Controller()
export class DashboardController {
  private readonly page = asset('index.html');
  private readonly script = asset('dashboard.js');
  private readonly style = asset('dashboard.css');
  /**
   * One view a second however many dashboards are open: the stream is shared while anyone
   * listens, and a new listener gets the latest view at once.
   */
  private readonly views: Observable<MessageEvent> = interval(VIEW_EVERY_MS).pipe(
    startWith(0),
    // A slow view is skipped, not queued, and one that hangs is given up after a bound: a
    // stalled replica never piles up work here nor freezes every open dashboard.
    exhaustMap(() =>
      from(this.view()).pipe(
        timeout(VIEW_TIMEOUT_MS),
        catchError(() => EMPTY),
      ),
    ),
    map((data) => ({ type: 'view', data })),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  constructor(
    private readonly log: CommandLogClient,
    private readonly gossip: GossipUpstream,
    private readonly activity: DecisionActivity,
    private readonly watch: WatchHub,
    private readonly asyncRequests: AsyncRequests,
  ) {}

  @Get()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  index(): string {
    return this.page;
  }

  @Get('dashboard/dashboard.js')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/javascript; charset=utf-8')
  scriptFile(): string {
    return this.script;
  }

  @Get('dashboard/dashboard.css')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/css; charset=utf-8')
  styleFile(): string {
    return this.style;
  }

  /** A view of the cluster every second: nodes, leader, membership, decisions and latency. */
  @ApiBearerAuth()
  @Sse('v1/dashboard/events')
  @Roles('reader', 'operator')
  events(): Observable<MessageEvent> {
    return this.views;
  }

  async view() {
    const [statuses, members] = await Promise.all([
      this.log.statuses(),
      this.gossip
        .call('GET', '/v1/agents')
        .then(({ json }) => (Array.isArray(json) ? json : null))
        .catch(() => null),
    ]);
    // Members of the configuration that did not answer are shown as unreachable, not hidden.
    const cluster = statuses.length > 0 ? clusterView(statuses) : undefined;
    const termOf = new Map(statuses.map((s) => [s.id, s.term]));
    return {
      at: Date.now(),
      leader: cluster?.leader ?? null,
      term: cluster?.term ?? null,
      nodes: (cluster?.nodes ?? []).map((n) => ({
        id: n.id,
        role: n.role,
        term: termOf.get(n.id) ?? null,
        commitIndex: n.commitIndex,
        appliedIndex: n.appliedIndex,
        snapshotIndex: n.snapshotIndex,
        lastContactMs: n.lastContactMs,
      })),
      members,
      outbox: this.asyncRequests.view(),
      decisions: { total: this.activity.total, series: this.activity.series() },
      // From the watch: decisions taken through any decision-api and through Kafka.
      recent: this.watch.recent(RECENT_ROWS).map(recentRow),
    };
  }
}
