import { ReplicatedStateMachine } from './state-machine.port';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Adapts the decision state machine to the replica's port.
 * INTERIM: until libs/decision lands this carries only versioned KV, enough to exercise the
 * replica end to end; the command and query shapes are those of libs/decision's KV.
 */
export class DecisionStateMachineAdapter implements ReplicatedStateMachine {
  private kv = new Map<string, { value: string; version: number; index: number }>();

  encodeCommand(command: Record<string, unknown>): { bytes: Uint8Array } | { error: string } {
    if (
      command.type !== 'kv.put' ||
      typeof command.key !== 'string' ||
      typeof command.value !== 'string'
    ) {
      return { error: 'unsupported command' };
    }
    return {
      bytes: encoder.encode(
        JSON.stringify({
          type: command.type,
          key: command.key,
          value: command.value,
          ts: command.ts,
        }),
      ),
    };
  }

  apply(index: number, data: Uint8Array): unknown {
    let command: { key: string; value: string };
    try {
      command = JSON.parse(decoder.decode(data)) as { key: string; value: string };
    } catch {
      return { status: 'invalid' };
    }
    const version = (this.kv.get(command.key)?.version ?? 0) + 1;
    this.kv.set(command.key, { value: command.value, version, index });
    return { status: 'ok', key: command.key, value: command.value, version, index };
  }

  query(query: Record<string, unknown>): unknown {
    if (query.type !== 'kv.get' || typeof query.key !== 'string') return { status: 'invalid' };
    const found = this.kv.get(query.key);
    return found ? { status: 'ok', key: query.key, ...found } : { status: 'not-found' };
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.kv].sort(([a], [b]) => a.localeCompare(b))));
  }

  restore(data: Uint8Array): void {
    this.kv = new Map(
      JSON.parse(decoder.decode(data)) as [
        string,
        { value: string; version: number; index: number },
      ][],
    );
  }
}
