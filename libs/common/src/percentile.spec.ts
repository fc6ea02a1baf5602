import { percentile } from './percentile';

describe('percentile', () => {
  it('is the nearest rank', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([1, 2, 3, 4], 0)).toBe(1);
    expect(percentile([5], 0.5)).toBe(5);
    expect(percentile([], 0.5)).toBeNull();
  });
});
