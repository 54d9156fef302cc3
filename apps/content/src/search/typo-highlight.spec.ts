import { UNMATCHED_BODY_CHARS, leadingText, markTypoMatches } from './typo-highlight';

describe('markTypoMatches', () => {
  it('marks the words a query word matches within its typo distance, a swap of two letters being one edit', () => {
    expect(markTypoMatches('Garden by the mountain', 'mountian')).toBe('Garden by the <mark>mountain</mark>');
    expect(markTypoMatches('Running foxes', 'runing foxs')).toBe('<mark>Running</mark> <mark>foxes</mark>');
    expect(markTypoMatches('Старый дом у реки', 'стрый')).toBe('<mark>Старый</mark> дом у реки');
  });

  it('allows edits by the query word length (none up to 2 letters, 1 up to 8, 2 from 9) and keeps the first letter exact', () => {
    expect(markTypoMatches('an ox', 'on')).toBe('an ox');
    expect(markTypoMatches('the house', 'hose')).toBe('the <mark>house</mark>');
    expect(markTypoMatches('the houses', 'hose')).toBe('the houses');
    expect(markTypoMatches('the mountains', 'mountian')).toBe('the mountains');
    expect(markTypoMatches('lighthouse', 'lgihthose')).toBe('<mark>lighthouse</mark>');
    expect(markTypoMatches('lighthouse', 'lihgthuose')).toBe('<mark>lighthouse</mark>');
    expect(markTypoMatches('mountain', 'nountain')).toBe('mountain');
  });

  it('escapes the title as every highlight does, marks included', () => {
    expect(markTypoMatches('<b>Fox</b> & hound', 'fxo')).toBe('&lt;b&gt;<mark>Fox</mark>&lt;/b&gt; &amp; hound');
    expect(markTypoMatches('R&D <notes>', 'nothing')).toBe('R&amp;D &lt;notes&gt;');
  });
});

describe('leadingText', () => {
  it('keeps a short body whole', () => {
    expect(leadingText('A short body.')).toBe('A short body.');
    expect(leadingText('')).toBe('');
  });

  it('cuts a long body after its first characters, at the end of the word they end in', () => {
    const body = `${'a'.repeat(UNMATCHED_BODY_CHARS - 3)} harbour lights`;
    expect(leadingText(body)).toBe(`${'a'.repeat(UNMATCHED_BODY_CHARS - 3)} harbour`);
    const atSpace = `${'b'.repeat(UNMATCHED_BODY_CHARS)} next words`;
    expect(leadingText(atSpace)).toBe('b'.repeat(UNMATCHED_BODY_CHARS));
  });

  it('counts characters, not UTF-16 units, and never splits one', () => {
    const body = `${'🌊'.repeat(UNMATCHED_BODY_CHARS)} tail`;
    expect([...leadingText(body)]).toHaveLength(UNMATCHED_BODY_CHARS);
    expect(leadingText(`${'ж'.repeat(UNMATCHED_BODY_CHARS + 5)} конец`)).toBe('ж'.repeat(UNMATCHED_BODY_CHARS + 5));
  });
});
