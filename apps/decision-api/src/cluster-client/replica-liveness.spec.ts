import { waitFor } from '../../../../test/support/wait';
import {
  ProbeAnswer,
  ReplicaDeposedError,
  ReplicaLiveness,
  ReplicaSilentError,
} from './replica-liveness';

const options = { silentAfterMs: 40, probeTimeoutMs: 40, suspectProbeIntervalMs: 20 };

/** Replicas as the probe sees them: answering with a role, or silent (the probe times out). */
function replicas() {
  const roles = new Map<string, string | 'silent'>();
  const probes: string[] = [];
  const probe = (address: string): Promise<ProbeAnswer> => {
    probes.push(address);
    const role = roles.get(address) ?? 'leader';
    return role === 'silent'
      ? new Promise((_, reject) =>
          setTimeout(() => reject(new Error('probe timed out')), options.probeTimeoutMs),
        )
      : Promise.resolve({ role });
  };
  return { roles, probes, probe };
}

/** A request that is never answered (a replica under SIGSTOP), and one answered on demand. */
const never = () => new Promise<string>(() => undefined);
function later<T>() {
  let answer!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (answer = resolve));
  return { promise, answer };
}

describe('ReplicaLiveness', () => {
  let liveness: ReplicaLiveness | undefined;
  afterEach(() => liveness?.close());

  it('abandons the requests out to a replica that answers no probe, and marks it suspect', async () => {
    const { roles, probe } = replicas();
    roles.set('a', 'silent');
    liveness = new ReplicaLiveness(probe, options);
    const first = liveness.watch('a', never(), false);
    const second = liveness.watch('a', never(), true);
    await expect(first).rejects.toBeInstanceOf(ReplicaSilentError);
    await expect(second).rejects.toBeInstanceOf(ReplicaSilentError);
    expect(liveness.isSuspect('a')).toBe(true);
    expect(liveness.isSuspect('b')).toBe(false);
    expect(liveness.requestsAbandoned).toBe(2);
    expect(liveness.suspicion()).toEqual(new Map([['a', true]]));
  });

  it('lets a slow request wait as long as its replica answers the probes', async () => {
    const { probes, probe } = replicas();
    liveness = new ReplicaLiveness(probe, options);
    const slow = later<string>();
    const watched = liveness.watch('a', slow.promise, true);
    // Several silences, each answered by a probe: the request is still waited for.
    await waitFor('three probes answered', () => (probes.length >= 3 ? true : undefined));
    slow.answer('committed');
    await expect(watched).resolves.toBe('committed');
    expect(liveness.isSuspect('a')).toBe(false);
  });

  it('abandons what needs the leader when the replica answers that it no longer leads', async () => {
    const { roles, probe } = replicas();
    roles.set('a', 'follower');
    liveness = new ReplicaLiveness(probe, options);
    const proposal = liveness.watch('a', never(), true);
    const staleRead = later<string>();
    const read = liveness.watch('a', staleRead.promise, false);
    await expect(proposal).rejects.toBeInstanceOf(ReplicaDeposedError);
    // A request any replica may serve keeps waiting at a live follower.
    staleRead.answer('read');
    await expect(read).resolves.toBe('read');
    expect(liveness.isSuspect('a')).toBe(false);
  });

  it('probes no replica that answers within silentAfterMs', async () => {
    // On the fake clock: under load a real 10 ms timer can fire after 40 ms and probe.
    jest.useFakeTimers();
    try {
      const { probes, probe } = replicas();
      liveness = new ReplicaLiveness(probe, options);
      for (let i = 0; i < 5; i += 1) {
        const quick = later<number>();
        const watched = liveness.watch('a', quick.promise, true);
        await jest.advanceTimersByTimeAsync(options.silentAfterMs - 5);
        quick.answer(i);
        await expect(watched).resolves.toBe(i);
      }
      expect(probes).toEqual([]);
      // The same wait past silentAfterMs does probe: the bound above is what held it back.
      const late = later<number>();
      const watched = liveness.watch('a', late.promise, true);
      await jest.advanceTimersByTimeAsync(options.silentAfterMs + 10);
      expect(probes).toEqual(['a']);
      late.answer(5);
      await expect(watched).resolves.toBe(5);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ends the suspicion at the first probe the replica answers again (it resumed)', async () => {
    const { roles, probes, probe } = replicas();
    roles.set('a', 'silent');
    liveness = new ReplicaLiveness(probe, options);
    await expect(liveness.watch('a', never(), false)).rejects.toBeInstanceOf(ReplicaSilentError);
    // Suspect: probed again and again while nothing is out to it.
    await waitFor('a second probe of the suspect', () => (probes.length >= 2 ? true : undefined));
    expect(liveness.isSuspect('a')).toBe(true);
    roles.set('a', 'leader');
    await waitFor('the suspicion ended', () => (liveness!.isSuspect('a') ? undefined : true));
  });

  it('passes on a request’s own failure unchanged', async () => {
    const { probe } = replicas();
    liveness = new ReplicaLiveness(probe, options);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(liveness.watch('a', Promise.reject(refused), true)).rejects.toBe(refused);
  });

  it('refuses a zero bound, which would probe without pause', () => {
    expect(() => new ReplicaLiveness(replicas().probe, { ...options, silentAfterMs: 0 })).toThrow(
      /silentAfterMs/,
    );
  });
});
