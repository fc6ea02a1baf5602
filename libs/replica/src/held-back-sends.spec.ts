import { Message, MessageType } from '@parley/raft';
import { HeldBackSends } from './held-back-sends';

const message = (index: number): Message =>
  ({ type: MessageType.App, from: 'a', to: 'b', term: 1, index }) as unknown as Message;

describe('HeldBackSends', () => {
  let sent: number[][];
  let turns: (() => void)[];
  let sends: HeldBackSends;
  beforeEach(() => {
    sent = [];
    turns = [];
    sends = new HeldBackSends(
      (messages) => sent.push(messages.map((m) => m.index)),
      (run) => turns.push(run),
    );
  });

  it('holds messages until the next turn, then sends them in one go', () => {
    sends.sendAfterAnswers([message(1), message(2)]);
    sends.sendAfterAnswers([message(3)]);
    expect(sent).toEqual([]);
    expect(turns).toHaveLength(1);
    turns[0]();
    expect(sent).toEqual([[1, 2, 3]]);
    expect(sends.heldCount).toBe(0);
  });

  it('never lets a message sent now overtake held ones', () => {
    sends.sendAfterAnswers([message(1)]);
    sends.send([message(2)]);
    expect(sent).toEqual([[1], [2]]);
    turns[0](); // the scheduled flush finds nothing left
    expect(sent).toEqual([[1], [2]]);
  });

  it('sends at once when nothing is held, and ignores empty lists', () => {
    sends.send([message(1)]);
    sends.send([]);
    sends.sendAfterAnswers([]);
    expect(sent).toEqual([[1]]);
    expect(turns).toHaveLength(0);
  });
});
