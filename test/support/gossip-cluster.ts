import { AppProcess } from './app-process';
import { ClientTls, getJson } from './https';
import { freePort } from './ports';
import { waitFor } from './wait';

export const GOSSIP_SECRET = 'e2e-gossip-secret-0123456789';

export interface MemberView {
  id: string;
  status: string;
  incarnation: number;
}

interface GossipMember {
  id: string;
  httpPort: number;
  gossipPort: number;
  process?: AppProcess;
}

/** Real gossip processes on loopback, joined through the first two as seeds. */
export class GossipCluster {
  readonly members: GossipMember[] = [];

  private constructor(private readonly tls?: ClientTls) {}

  private url(id: string, path: string): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.member(id).httpPort}${path}`;
  }

  /** `tls`: the test's trust and client certificate, for members serving HTTPS. */
  static async create(
    size: number,
    env: Record<string, string> = {},
    tls?: ClientTls,
  ): Promise<GossipCluster> {
    const cluster = new GossipCluster(tls);
    for (let i = 1; i <= size; i += 1)
      cluster.members.push({
        id: `g${i}`,
        httpPort: await freePort(),
        gossipPort: await freePort(),
      });
    const seeds = cluster.members
      .slice(0, 2)
      .map((m) => `127.0.0.1:${m.gossipPort}`)
      .join(',');
    for (const m of cluster.members)
      m.process = AppProcess.start('gossip', {
        PARLEY_NODE_ID: m.id,
        PARLEY_HTTP_PORT: String(m.httpPort),
        PARLEY_GOSSIP_PORT: String(m.gossipPort),
        PARLEY_GOSSIP_SEEDS: seeds,
        PARLEY_CLUSTER_SECRET: GOSSIP_SECRET,
        PARLEY_LOG_LEVEL: 'warn',
        ...env,
      });
    return cluster;
  }

  member(id: string): GossipMember {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  running(): GossipMember[] {
    return this.members.filter((m) => m.process);
  }

  async view(id: string): Promise<MemberView[] | undefined> {
    try {
      const answer = await getJson(this.url(id, '/v1/agents'), this.tls);
      return answer.status === 200 ? (answer.json as MemberView[]) : undefined;
    } catch {
      return undefined;
    }
  }

  async events(id: string): Promise<{ id: string; to: string }[]> {
    return (await getJson(this.url(id, '/v1/members/events'), this.tls)).json as {
      id: string;
      to: string;
    }[];
  }

  /** Polls until every running member except `except` sees `id` in `status`; returns ms waited. */
  async waitAllSee(
    id: string,
    status: string,
    timeoutMs: number,
    accept: (view: MemberView) => boolean = () => true,
  ): Promise<number> {
    const started = Date.now();
    await waitFor(
      `every member to see ${id} ${status}`,
      async () => {
        const observers = this.running().filter((m) => m.id !== id);
        const views = await Promise.all(observers.map((m) => this.view(m.id)));
        return views.every((v) => {
          const entry = v?.find((e) => e.id === id);
          return entry?.status === status && accept(entry);
        })
          ? true
          : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    ).catch(async (error: Error) => {
      // What each member believed at the end, to find the cause of a failure.
      const views = await Promise.all(
        this.running().map(
          async (m) =>
            `${m.id}: ${JSON.stringify((await this.view(m.id))?.find((e) => e.id === id))}`,
        ),
      );
      throw new Error(`${error.message}\nviews of ${id}: ${views.join('; ')}`);
    });
    return Date.now() - started;
  }

  async waitFormed(timeoutMs = 30_000): Promise<void> {
    for (const m of this.members) await this.waitAllSee(m.id, 'alive', timeoutMs);
  }

  async kill(id: string): Promise<void> {
    const m = this.member(id);
    await m.process?.stop('SIGKILL');
    m.process = undefined;
  }

  /** SIGSTOP, then SIGCONT after `ms`: the process neither runs nor reads meanwhile. */
  async pause(id: string, ms: number): Promise<void> {
    const child = this.member(id).process!.child;
    child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, ms));
    child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      await m.process?.stop('SIGKILL');
      m.process = undefined;
    }
  }
}

/**
 * The shared real-process scenario: kill -9 is detected; SIGSTOP for 5 s is refuted; SIGTERM
 * leaves gracefully.
 */
export function gossipFaultScenarios(env: () => Record<string, string>): void {
  let cluster: GossipCluster;
  afterAll(async () => cluster?.stop());

  it('five members form one view', async () => {
    // Suspicion of 8 periods: a 5 s pause is surely suspected, and surely refuted in time.
    cluster = await GossipCluster.create(5, { PARLEY_GOSSIP_SUSPICION_MULT: '8', ...env() });
    await cluster.waitFormed();
    const view = await cluster.view('g3');
    expect(view?.map((m) => m.id).sort()).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
  });

  it('kill -9 of one member: every other marks it dead within the bound', async () => {
    await cluster.kill('g5');
    // 4 live members, 100 ms ticks: suspected within ~1-2 periods, dead 8 periods later.
    const waited = await cluster.waitAllSee('g5', 'dead', 40_000);
    expect(waited).toBeLessThan(40_000);
  });

  it('SIGSTOP for 5 s then SIGCONT: the member is suspected, refutes, and is never declared dead', async () => {
    // The pause (a 5 s wait, with the process stopped) is the fault under test, not a sync.
    await cluster.pause('g4', 5_000);
    await cluster.waitAllSee('g4', 'alive', 20_000, (view) => view.incarnation > 0);
    let suspectedBy = 0;
    for (const observer of ['g1', 'g2', 'g3']) {
      const events = await cluster.events(observer);
      expect(events.filter((e) => e.id === 'g4' && e.to === 'dead')).toEqual([]);
      if (events.some((e) => e.id === 'g4' && e.to === 'suspect')) suspectedBy += 1;
    }
    expect(suspectedBy).toBeGreaterThan(0);
  });

  it('a graceful stop (SIGTERM) is a leave: the others mark it left, not dead', async () => {
    const leaving = cluster.member('g3');
    await leaving.process?.stop('SIGTERM');
    leaving.process = undefined;
    await cluster.waitAllSee('g3', 'left', 10_000);
  });
}
