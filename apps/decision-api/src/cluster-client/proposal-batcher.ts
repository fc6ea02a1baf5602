import type { ProposeResponse } from '../../../command-log/src/api/rpc-patterns';

export interface Proposal {
  command: Record<string, unknown>;
  traceId?: string;
}

export interface ProposalBatcherOptions {
  /** The most proposals one request to the leader carries. */
  batchMax: number;
  /** The most proposals waiting to leave; beyond it `submit` refuses at once (back-pressure). */
  queuedMax: number;
  /** The error a refused submit rejects with. */
  overloaded: () => Error;
}

interface Waiting {
  proposal: Proposal;
  resolve: (answer: ProposeResponse) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the proposals of concurrent requests into batches, the client half of group commit:
 * whatever arrived during one turn of the event loop leaves together when the turn ends
 * (setImmediate), at most `batchMax` to a request. A lone request waits for nothing but the end
 * of its own turn; under load one signed request carries many proposals, so signing, framing,
 * dispatch and the leader's Ready are paid once per batch instead of once per proposal.
 */
export class ProposalBatcher {
  private queue: Waiting[] = [];
  private flushScheduled = false;

  constructor(
    /** Sends one batch; answers one response per proposal, in order. */
    private readonly sendBatch: (proposals: Proposal[]) => Promise<ProposeResponse[]>,
    private readonly options: ProposalBatcherOptions,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  submit(proposal: Proposal): Promise<ProposeResponse> {
    if (this.queue.length >= this.options.queuedMax)
      return Promise.reject(this.options.overloaded());
    return new Promise((resolve, reject) => {
      this.queue.push({ proposal, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchMax);
      this.sendBatch(batch.map((waiting) => waiting.proposal)).then(
        (answers) =>
          batch.forEach((waiting, i) =>
            // A short answer list breaks the contract: the missing outcomes are unknown.
            waiting.resolve(answers[i] ?? { status: 'timeout' }),
          ),
        (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
      );
    }
  }
}
