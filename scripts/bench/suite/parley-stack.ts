/**
 * The Parley side of a REST benchmark: three command-log replicas (fsync on, their own data
 * dirs), one crdt replica and decision-api, each its own process on loopback, started from
 * source like the e2e tests start them.
 */
import { AppProcess, waitForHttp } from '../../../test/support/app-process';
import { CLUSTER_SECRET, CommandLogCluster } from '../../../test/support/command-log-cluster';
import { CrdtCluster } from '../../../test/support/crdt-cluster';
import { freePort } from '../../../test/support/ports';

export const BENCH_AGENT_KEY = 'agent-key-0123456789abcdef';

export class ParleyStack {
  private constructor(
    readonly commandLog: CommandLogCluster,
    readonly crdt: CrdtCluster,
    readonly api: AppProcess,
    readonly apiUrl: string,
    /** decision-api's environment, for starting another one in front of the same cluster. */
    readonly apiEnv: Record<string, string>,
  ) {}

  static async start(
    replicas = 3,
    extraEnv: {
      api?: Record<string, string>;
      commandLog?: Record<string, string>;
      crdt?: Record<string, string>;
    } = {},
  ): Promise<ParleyStack> {
    const commandLog = await CommandLogCluster.create(replicas, {
      PARLEY_LOG_LEVEL: 'error',
      ...extraEnv.commandLog,
    });
    const crdt = await CrdtCluster.create(1, () => ({
      PARLEY_LOG_LEVEL: 'error',
      ...extraEnv.crdt,
    }));
    const port = await freePort();
    const apiEnv = {
      PARLEY_HTTP_PORT: String(port),
      PARLEY_API_KEYS: `agent:${BENCH_AGENT_KEY}`,
      PARLEY_RPC_SECRET: CLUSTER_SECRET,
      PARLEY_COMMAND_LOG_NODES: commandLog.replicas.map((r) => `127.0.0.1:${r.rpcPort}`).join(','),
      PARLEY_CRDT_NODES: `127.0.0.1:${crdt.replica('c1').httpPort}`,
      PARLEY_RATE_LIMIT_PER_SECOND: '1000000',
      PARLEY_LOG_LEVEL: 'error',
      ...extraEnv.api,
    };
    const api = AppProcess.start('decision-api', apiEnv);
    const stack = new ParleyStack(commandLog, crdt, api, `http://127.0.0.1:${port}`, apiEnv);
    await commandLog.waitForLeader();
    await waitForHttp(`${stack.apiUrl}/health/ready`, 200, 60_000);
    return stack;
  }

  /** Every process of the stack by name, for memory readings. */
  pids(): Record<string, number> {
    const pids: Record<string, number> = { 'decision-api': this.api.child.pid! };
    for (const replica of this.commandLog.replicas)
      if (replica.process) pids[`command-log-${replica.id}`] = replica.process.child.pid!;
    const crdt = this.crdt.replica('c1');
    if (crdt.process) pids['crdt-c1'] = crdt.process.child.pid!;
    return pids;
  }

  headers(): Record<string, string> {
    return { authorization: `Bearer ${BENCH_AGENT_KEY}` };
  }

  async stop(): Promise<void> {
    await this.api.stop();
    await this.crdt.stop();
    await this.commandLog.stop();
  }
}
