import { insertAt, isPermutationOf, moveTo } from './collection-order';

describe('collection order', () => {
  const order = ['a', 'b', 'c', 'd'];

  it('appends without a position and inserts at a clamped one', () => {
    expect(insertAt(order, 'x')).toEqual(['a', 'b', 'c', 'd', 'x']);
    expect(insertAt(order, 'x', 0)).toEqual(['x', 'a', 'b', 'c', 'd']);
    expect(insertAt(order, 'x', 2)).toEqual(['a', 'b', 'x', 'c', 'd']);
    expect(insertAt(order, 'x', 99)).toEqual(['a', 'b', 'c', 'd', 'x']);
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('moves forwards and backwards, keeping the others in order', () => {
    expect(moveTo(order, 'a', 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moveTo(order, 'd', 0)).toEqual(['d', 'a', 'b', 'c']);
    expect(moveTo(order, 'b', 99)).toEqual(['a', 'c', 'd', 'b']);
    expect(moveTo(order, 'c', 2)).toEqual(order);
  });

  it('accepts only the same documents in another order', () => {
    expect(isPermutationOf(order, ['d', 'c', 'b', 'a'])).toBe(true);
    expect(isPermutationOf(order, ['a', 'b', 'c'])).toBe(false);
    expect(isPermutationOf(order, ['a', 'b', 'c', 'c'])).toBe(false);
    expect(isPermutationOf(order, ['a', 'b', 'c', 'x'])).toBe(false);
  });
});
