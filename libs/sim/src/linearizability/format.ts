import { CheckReport } from './checker';
import { Operation } from './history';
import { Model } from './model';

function line<I, O>(model: Model<unknown, I, O>, op: Operation<I, O>): string {
  const ret = op.return === Infinity ? '∞' : String(op.return);
  return `  client ${op.clientId} [${op.call} – ${ret}] ${model.describe(op.input, op.output)}`;
}

/** A readable account of a failed check, for the simulator's failure message. */
export function formatFailure<I, O>(
  model: Model<unknown, I, O>,
  report: CheckReport<I, O>,
): string {
  if (!report.failure) return `result: ${report.result}`;
  const { partition, linearized, remaining } = report.failure;
  return [
    `not linearizable (partition ${partition}); longest linearizable prefix:`,
    ...linearized.map((op) => line(model, op)),
    'operations that cannot follow it:',
    ...remaining.slice(0, 20).map((op) => line(model, op)),
  ].join('\n');
}
