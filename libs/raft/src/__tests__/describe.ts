import { ConfChange, ConfChangeType, decodeConfChange } from '../confchange';
import { ConfState, Entry, EntryType, Message, MessageType, Ready } from '../types';

/**
 * Stable one-line renderings of the core's data for the golden scripts: a reviewer reads the
 * protocol from them, so they name fields after the paper and omit what is at its zero value.
 */

const untext = new TextDecoder();

const CHANGE_LETTER: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'v',
  [ConfChangeType.AddLearner]: 'l',
  [ConfChangeType.RemoveNode]: 'r',
};

export function describeConfChange(cc: ConfChange): string {
  if (cc.changes.length === 0) return 'leave-joint';
  const changes = cc.changes.map((c) => `${CHANGE_LETTER[c.type]}${c.nodeId}`).join(' ');
  return cc.transition === 'auto' ? changes : `${cc.transition} ${changes}`;
}

/** `term/index EntryNormal "data"`, like etcd's. */
export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data);
    const what = 'error' in cc ? `<${cc.error}>` : describeConfChange(cc);
    return `${e.term}/${e.index} EntryConfChange ${what}`;
  }
  return `${e.term}/${e.index} EntryNormal ${JSON.stringify(untext.decode(e.data))}`;
}

function ids(list: readonly string[]): string {
  return `(${list.join(',')})`;
}

export function describeConfState(cs: ConfState): string {
  const parts = [`voters=${ids(cs.voters)}`];
  if (cs.votersOutgoing.length > 0) parts.push(`outgoing=${ids(cs.votersOutgoing)}`);
  if (cs.learners.length > 0) parts.push(`learners=${ids(cs.learners)}`);
  if (cs.learnersNext.length > 0) parts.push(`learners-next=${ids(cs.learnersNext)}`);
  if (cs.autoLeave) parts.push('auto-leave');
  return parts.join(' ');
}

/** Message types whose `logTerm/index` is the position of a log entry (prev entry, last entry). */
const CARRIES_LOG_POSITION = new Set([MessageType.App, MessageType.Vote, MessageType.PreVote]);

/** `from->to type Term:t Log:lt/i Commit:c ...`; the tick stamps of leases are left out. */
export function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} Term:${m.term}`];
  if (CARRIES_LOG_POSITION.has(m.type)) parts.push(`Log:${m.logTerm}/${m.index}`);
  else if (m.index !== 0) parts.push(`Index:${m.index}`);
  if (m.commit !== 0) parts.push(`Commit:${m.commit}`);
  if (m.reject) {
    parts.push('Rejected');
    if (m.type === MessageType.AppResp) parts.push(`Hint:${m.logTerm}/${m.rejectHint}`);
  }
  if (m.context !== '') parts.push(`Context:${m.context}`);
  if (m.type === MessageType.SnapResp) parts.push(`Offset:${m.snapshotOffset}`);
  const chunk = m.snapshotChunk;
  if (chunk !== undefined) {
    const end = chunk.offset + chunk.data.length;
    parts.push(
      `Snapshot:[${chunk.meta.term}/${chunk.meta.index} bytes ${chunk.offset}-${end} of ` +
        `${chunk.totalBytes} ${describeConfState(chunk.meta.confState)}]`,
    );
  }
  if (m.entries.length > 0) parts.push(`Entries:[${m.entries.map(describeEntry).join(', ')}]`);
  return parts.join(' ');
}

/** A Ready as a block of lines, in the order the application must carry it out. */
export function describeReady(rd: Ready): string[] {
  const out = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) out.push(`Lead:${rd.softState.lead || 'none'} State:${rd.softState.role}`);
  if (rd.hardState) {
    const hs = rd.hardState;
    out.push(`HardState Term:${hs.term} Vote:${hs.vote || 'none'} Commit:${hs.commit}`);
  }
  if (rd.entries.length > 0) out.push('Entries:', ...rd.entries.map(describeEntry));
  if (rd.snapshot) {
    const meta = rd.snapshot.meta;
    out.push(`Snapshot ${meta.term}/${meta.index} ${describeConfState(meta.confState)}`);
  }
  if (rd.committedEntries.length > 0)
    out.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry));
  if (rd.messages.length > 0) out.push('Messages:', ...rd.messages.map(describeMessage));
  if (rd.readStates.length > 0) {
    out.push(
      'ReadStates:',
      ...rd.readStates.map((s) => `Index:${s.index} Context:${s.requestCtx}`),
    );
  }
  return out;
}
