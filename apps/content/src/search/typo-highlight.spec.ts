import { markTypoMatches, typoHighlighter } from './typo-highlight';

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

describe('typoHighlighter', () => {
  it("marks a hit's title and the leading text of its body by the typo rule", () => {
    const body = `A keeper climbs the lighthouse stairs. ${'Waves '.repeat(40)}`;
    expect(typoHighlighter('lihgthouse kepeer')({ title: 'The lighthouse keeper', summary: 'unused', body })).toEqual({
      title: 'The <mark>lighthouse</mark> <mark>keeper</mark>',
      body: `A <mark>keeper</mark> climbs the <mark>lighthouse</mark> stairs. ${'Waves '.repeat(18)}Waves`,
    });
  });
});
