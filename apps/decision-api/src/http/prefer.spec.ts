import { prefersRespondAsync } from './prefer';

describe('prefersRespondAsync', () => {
  it.each([
    ['respond-async', true],
    ['Respond-Async', true],
    ['wait=10, respond-async', true],
    ['respond-async; wait=5', true],
    [['return=minimal', 'respond-async'], true],
    ['return=minimal', false],
    ['respond-asyncx', false],
    ['x=respond-async', false],
    [undefined, false],
  ])('%j -> %s', (header, expected) => {
    expect(prefersRespondAsync(header)).toBe(expected);
  });
});
