/**
 * The simulator's replicated state machine: a KV map with put, get and compare-and-set, and a
 * session table that applies each (client, op) once: the network may duplicate a forwarded
 * proposal, and the log then holds it twice (Raft dissertation §6.3). Commands are JSON; the
 * snapshot holds the sorted map and sessions, so equal states give equal bytes.
 */
export interface KvCommand {
  clientId: number;
  opId: number;
  kind: 'put' | 'cas';
  key: string;
  value: string;
  expected?: string | null;
}

export type KvResult = { ok: boolean };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeKvCommand(data: Uint8Array): KvCommand {
  return JSON.parse(decoder.decode(data)) as KvCommand;
}

export class KvStateMachine {
  private values = new Map<string, string>();
  private sessions = new Map<string, KvResult>();

  apply(command: KvCommand): KvResult {
    const session = `${command.clientId}:${command.opId}`;
    const first = this.sessions.get(session);
    if (first) return first;
    const result = this.execute(command);
    this.sessions.set(session, result);
    return result;
  }

  private execute(command: KvCommand): KvResult {
    if (command.kind === 'put') {
      this.values.set(command.key, command.value);
      return { ok: true };
    }
    const current = this.values.get(command.key) ?? null;
    if (current !== (command.expected ?? null)) return { ok: false };
    this.values.set(command.key, command.value);
    return { ok: true };
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    const sorted = <V>(map: Map<string, V>) =>
      [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return encoder.encode(
      JSON.stringify({ values: sorted(this.values), sessions: sorted(this.sessions) }),
    );
  }

  restore(data: Uint8Array): void {
    if (data.length === 0) {
      this.values = new Map();
      this.sessions = new Map();
      return;
    }
    const parsed = JSON.parse(decoder.decode(data)) as {
      values: [string, string][];
      sessions: [string, KvResult][];
    };
    this.values = new Map(parsed.values);
    this.sessions = new Map(parsed.sessions);
  }

  digest(): string {
    return JSON.stringify([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}
