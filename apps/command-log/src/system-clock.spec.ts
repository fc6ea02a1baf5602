import { Message, MessageType } from '@parley/raft';
import { HeldBackSends } from '@parley/replica';
import { SYSTEM_CLOCK } from './system-clock';

const message = (index: number): Message =>
  ({ type: MessageType.App, from: 'a', to: 'b', term: 1, index }) as unknown as Message;

describe('SYSTEM_CLOCK', () => {
  it('defers held-back sends until the promise callbacks of this turn have run', async () => {
    const order: string[] = [];
    const real = new HeldBackSends(
      () => order.push('peer write'),
      (run) => SYSTEM_CLOCK.defer(run),
    );
    real.sendAfterAnswers([message(1)]);
    void Promise.resolve()
      .then(() => undefined)
      .then(() => order.push('answer written'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['answer written', 'peer write']);
  });
});
