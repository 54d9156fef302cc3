import { PASSAGE_SEPARATOR, UNMATCHED_BODY_CHARS, fullTextHighlighter, leadingText } from './highlight';

const highlight = (query: string, texts: { title?: string; summary?: string; body?: string }, configuration = 'english') =>
  fullTextHighlighter(query)({ title: '', summary: '', body: '', ...texts }, configuration);

describe('fullTextHighlighter', () => {
  it("marks the words holding a query word's stem, not its stop words, in the hit's configuration", () => {
    expect(highlight('the running fox', { title: 'The foxes ran; running Foxes' }).title).toBe('The <mark>foxes</mark> ran; <mark>running</mark> <mark>Foxes</mark>');
    expect(highlight('keeper', { title: "The keeper's log" }).title).toBe("The <mark>keeper's</mark> log");
    expect(highlight('лес', { title: 'В лесу и в лесах' }, 'russian').title).toBe('В <mark>лесу</mark> и в <mark>лесах</mark>');
    // Russian reads ё as е, as the engine does.
    expect(highlight('ёлка', { title: 'Елки и ёлки' }, 'russian').title).toBe('<mark>Елки</mark> и <mark>ёлки</mark>');
    // The standard analyzer (a language without stemming) matches words only as written, in any case.
    expect(highlight('китап', { title: 'Китап һәм китаплар' }, 'simple').title).toBe('<mark>Китап</mark> һәм китаплар');
    expect(highlight('the', { title: 'The end' }).title).toBe('The end');
  });

  it('finds words where the engine does: lower case per character, a letter and a digit never joined', () => {
    expect(highlight('istanbul', { title: 'İSTANBUL and İstanbul' }, 'simple').title).toBe('<mark>İSTANBUL</mark> and <mark>İstanbul</mark>');
    expect(highlight('οδοσ', { title: 'ΟΔΟΣ, not οδος' }, 'simple').title).toBe('<mark>ΟΔΟΣ</mark>, not οδος');
    expect(highlight('1', { title: 'Chapter a.1, v1.2' }, 'simple').title).toBe('Chapter a.<mark>1</mark>, v1.2');
  });

  it('reads the query as the engine does: OR joins, an excluded word is not marked, a phrase only where it stands', () => {
    expect(highlight('fox OR wolf -hound', { title: 'Fox, wolf and hound' }).title).toBe('<mark>Fox</mark>, <mark>wolf</mark> and hound');
    expect(highlight('"keeper of the light"', { title: 'The keeper of the light. A light keeper.' }).title).toBe(
      'The <mark>keeper</mark> of the <mark>light</mark>. A light keeper.',
    );
    expect(highlight('"harbour"', { title: 'Harbour lights' }).title).toBe('<mark>Harbour</mark> lights');
  });

  it('escapes every text, marks included', () => {
    expect(highlight('fox', { title: '<b>Fox</b> & hound', body: 'A <i>fox</i>.' })).toEqual({
      title: '&lt;b&gt;<mark>Fox</mark>&lt;/b&gt; &amp; hound',
      body: 'A &lt;i&gt;<mark>fox</mark>&lt;/i&gt;.',
    });
  });

  it("shows the body's leading text when neither the summary nor the body holds a query word", () => {
    const body = `Nothing here <matches>. ${'Waves and wind. '.repeat(20)}`;
    expect(highlight('lighthouse', { title: 'Lighthouse', summary: 'A summary.', body })).toEqual({
      title: '<mark>Lighthouse</mark>',
      body: leadingText(body).replace('<', '&lt;').replace('>', '&gt;'),
    });
  });

  it("cuts passages from the sentence holding a match to the last sentence end within the bound, the summary's first", () => {
    const filler = 'Waves broke on the rocks all night long. '.repeat(6);
    const body = `${filler}The keeper climbed the lighthouse stairs. He lit the lamp at dusk. ${filler}`;
    const { body: highlighted } = highlight('lighthouse', { summary: 'A lighthouse story.', body });
    expect(highlighted).toBe(`A <mark>lighthouse</mark> story.${PASSAGE_SEPARATOR}The keeper climbed the <mark>lighthouse</mark> stairs. He lit the lamp at dusk. Waves broke on the rocks all night long. Waves broke on the rocks all night long.`);
  });

  it('starts a passage at its match when the sentence began too far before it, and ends it at the end of a word', () => {
    const sentence = `${'word '.repeat(60)}lighthouse ${'stone '.repeat(60)}end.`;
    const [passage] = highlight('lighthouse', { body: sentence }).body.split(PASSAGE_SEPARATOR);
    expect(passage.startsWith('<mark>lighthouse</mark> stone')).toBe(true);
    expect(passage.replace(/<\/?mark>/g, '')).toHaveLength(`lighthouse ${'stone '.repeat(23)}stone`.length);
  });

  it('keeps the two best passages in text order: more of the query words and nearer the start score higher', () => {
    const sentences = ['The fox slept.', 'Rain fell for hours on the town.', 'The fox met the wolf.', 'Snow came later that year.', 'A wolf howled.', 'The fox and the wolf ran.'];
    const body = sentences.map((sentence) => `${sentence} ${'Quiet fields lay under grey skies. '.repeat(5)}`).join('');
    const passages = highlight('fox wolf', { body }).body.split(PASSAGE_SEPARATOR);
    expect(passages).toHaveLength(2);
    expect(passages[0].startsWith('The <mark>fox</mark> met the <mark>wolf</mark>.')).toBe(true);
    expect(passages[1].startsWith('The <mark>fox</mark> and the <mark>wolf</mark> ran.')).toBe(true);
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
