import { CommandLogCluster } from '../command-log-cluster';
import { FaultProxy } from './fault-proxy';

/** A small seeded PRNG (mulberry32): the same seed gives the same fault schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultKind =
  | 'kill-leader'
  | 'kill-follower'
  | 'pause-leader'
  | 'pause-follower'
  | 'isolate-leader'
  | 'isolate-follower'
  | 'one-way'
  | 'bridge';

export interface InjectedFault {
  kind: FaultKind;
  target: string;
  atMs: number;
  durationMs: number;
}

/**
 * Injects one fault at a time into a command-log cluster, on a schedule drawn from a seed:
 * kill -9 and restart, SIGSTOP and SIGCONT (a long GC pause), a node cut off from the others
 * both ways (majority / minority), a one-way cut, and with five nodes a bridge (two halves that
 * only talk through one node). Each fault lasts a drawn time, then is healed before the next.
 */
export class Nemesis {
  readonly injected: InjectedFault[] = [];
  private readonly stopped = new Set<string>();
  private readonly paused = new Set<string>();

  constructor(
    private readonly cluster: CommandLogCluster,
    private readonly proxies: Map<string, FaultProxy>,
    private readonly random: () => number,
    private readonly startedAt: number,
    private readonly log: (line: string) => void,
  ) {}

  private get ids(): string[] {
    return this.cluster.replicas.map((r) => r.id);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private async leaderOrAny(): Promise<{ leader: string; follower: string }> {
    const statuses = await Promise.all(
      this.ids.map(async (id) => ({ id, status: await this.cluster.status(id) })),
    );
    const leader = statuses.find((s) => s.status?.role === 'leader')?.id ?? this.pick(this.ids);
    return { leader, follower: this.pick(this.ids.filter((id) => id !== leader)) };
  }

  private link(from: string, to: string): FaultProxy {
    return this.proxies.get(`${from}>${to}`)!;
  }

  /** Runs one drawn fault for its duration and heals it. */
  async step(): Promise<void> {
    const kinds: FaultKind[] = [
      'kill-leader',
      'kill-follower',
      'pause-leader',
      'pause-follower',
      'isolate-leader',
      'isolate-follower',
      'one-way',
      ...(this.ids.length >= 5 ? (['bridge'] as const) : []),
    ];
    const kind = this.pick(kinds);
    const durationMs = 1_000 + Math.floor(this.random() * 3_000);
    const { leader, follower } = await this.leaderOrAny();
    const target = kind.endsWith('leader') ? leader : follower;
    const fault: InjectedFault = { kind, target, atMs: Date.now() - this.startedAt, durationMs };
    this.injected.push(fault);
    this.log(`nemesis: ${kind} ${target} for ${durationMs} ms`);
    const pause = () => new Promise((resolve) => setTimeout(resolve, durationMs));
    switch (kind) {
      case 'kill-leader':
      case 'kill-follower':
        this.stopped.add(target);
        await this.cluster.kill(target);
        await pause();
        this.cluster.start(target);
        this.stopped.delete(target);
        break;
      case 'pause-leader':
      case 'pause-follower':
        this.paused.add(target);
        this.cluster.replica(target).process?.child.kill('SIGSTOP');
        await pause();
        this.cluster.replica(target).process?.child.kill('SIGCONT');
        this.paused.delete(target);
        break;
      case 'isolate-leader':
      case 'isolate-follower':
        for (const other of this.ids.filter((id) => id !== target)) {
          this.link(target, other).setCut(true);
          this.link(other, target).setCut(true);
        }
        await pause();
        this.healLinks();
        break;
      case 'one-way': {
        const to = this.pick(this.ids.filter((id) => id !== target));
        fault.target = `${target}>${to}`;
        this.link(target, to).setCut(true);
        await pause();
        this.healLinks();
        break;
      }
      case 'bridge': {
        // a b | c | d e : c hears everyone; the halves do not hear each other.
        const [a, b, c, d, e] = [...this.ids].sort(() => this.random() - 0.5);
        fault.target = `${a},${b}|${c}|${d},${e}`;
        for (const x of [a, b])
          for (const y of [d, e]) {
            this.link(x, y).setCut(true);
            this.link(y, x).setCut(true);
          }
        await pause();
        this.healLinks();
        break;
      }
    }
  }

  private healLinks(): void {
    for (const proxy of this.proxies.values()) proxy.setCut(false);
  }

  /** Ends every fault: links healed, paused replicas continued, killed ones restarted. */
  healAll(): void {
    this.healLinks();
    for (const id of this.paused) this.cluster.replica(id).process?.child.kill('SIGCONT');
    this.paused.clear();
    for (const id of this.stopped) this.cluster.start(id);
    this.stopped.clear();
  }
}
