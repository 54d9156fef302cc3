import { blame, lineDiff } from './line-history';

describe('line history', () => {
  it('diffs lines with numbers on both sides', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { kind: 'unchanged', text: 'a', oldLine: 1, newLine: 1 },
      { kind: 'removed', text: 'b', oldLine: 2, newLine: null },
      { kind: 'added', text: 'B', oldLine: null, newLine: 2 },
      { kind: 'unchanged', text: 'c', oldLine: 3, newLine: 3 },
      { kind: 'added', text: 'd', oldLine: null, newLine: 4 },
    ]);
    expect(lineDiff('', 'x')).toEqual([{ kind: 'added', text: 'x', oldLine: null, newLine: 1 }]);
  });

  it('attributes each line to the version that last changed it', () => {
    const lines = blame([
      { version: 1, body: 'one\ntwo\nthree', origin: 'ann' },
      { version: 2, body: 'one\nTWO\nthree', origin: 'bob' },
      { version: 3, body: 'zero\none\nTWO\nthree', origin: 'cid' },
      { version: 4, body: 'zero\none\nTWO', origin: 'dan' },
    ]);
    expect(lines.map(({ lineNumber, text, version, origin }) => [lineNumber, text, version, origin])).toEqual([
      [1, 'zero', 3, 'cid'],
      [2, 'one', 1, 'ann'],
      [3, 'TWO', 2, 'bob'],
    ]);
  });

  it('treats a restored older text as a change by the restoring version', () => {
    const lines = blame([
      { version: 1, body: 'a', origin: 'ann' },
      { version: 2, body: 'b', origin: 'bob' },
      { version: 3, body: 'a', origin: 'cid' },
    ]);
    expect(lines).toEqual([{ lineNumber: 1, text: 'a', version: 3, origin: 'cid' }]);
  });
});
