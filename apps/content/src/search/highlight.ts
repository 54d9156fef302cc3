import { TermOf, WORD_CHARACTER, termOf, termStarts, tokenAt, tokens } from './text-analysis';
import { isOr, webSearchTokens } from './web-search-syntax';

/**
 * A search hit's highlights, made by the service from the texts it reads for the hit anyway: the
 * title whole, and up to two passages of the summary and body around the query's words, each
 * word the engine matched marked. The engine can highlight too, but to do so it loads and parses
 * every hit's stored document and runs a sentence iterator over it: 3-5 ms of a one-word search's
 * 8 ms in the engine. The service marks the same words: it analyzes texts as the engine does
 * (text-analysis.ts) and reads the query as the engine's `simple_query_string` does.
 */

export const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Range {
  start: number;
  end: number;
}

/** The text between `from` and `to`, escaped as every highlight, with the (ordered, disjoint) ranges marked. */
export function markRanges(text: string, ranges: readonly Range[], from = 0, to = text.length): string {
  let marked = '';
  let end = from;
  for (const range of ranges) {
    marked += `${escapeHtml(text.slice(end, range.start))}<mark>${escapeHtml(text.slice(range.start, range.end))}</mark>`;
    end = range.end;
  }
  return marked + escapeHtml(text.slice(end, to));
}

/** How much of a body without matches its highlight shows, and the length a passage is bounded by. */
export const UNMATCHED_BODY_CHARS = 150;
const LEADING_TEXT = new RegExp(`^[\\s\\S]{0,${UNMATCHED_BODY_CHARS}}${WORD_CHARACTER}*`, 'u');

/** The first UNMATCHED_BODY_CHARS characters of a body and the rest of the word they end in. */
export const leadingText = (body: string): string => (LEADING_TEXT.exec(body) as RegExpExecArray)[0];

const PASSAGE_CHARS = UNMATCHED_BODY_CHARS;
const PASSAGES = 2;
export const PASSAGE_SEPARATOR = ' … ';

/** What one configuration's analysis makes of a query: the terms highlighted anywhere, and the phrases (a null is a stop word's place). */
interface AnalyzedQuery {
  terms: Set<string>;
  phrases: (string | null)[][];
  /** Where words that may hold the terms start (termStarts): only those are analyzed. */
  starts: RegExp | null;
}

function analyzeQuery(query: string, term: TermOf): AnalyzedQuery {
  const analyzed: AnalyzedQuery = { terms: new Set(), phrases: [], starts: null };
  for (const token of webSearchTokens(query)) {
    // Excluded words match nothing a hit holds; OR only joins.
    if (token.startsWith('-') || token === '|' || isOr(token)) continue;
    const words = [...tokens(token)].map((word) => term(word.text));
    const phrase = token.startsWith('"') && words.filter((word) => word !== null).length > 1;
    if (phrase) analyzed.phrases.push(words);
    else for (const word of words) if (word !== null) analyzed.terms.add(word);
  }
  analyzed.starts = termStarts(analyzed.terms);
  return analyzed;
}

interface Match extends Range {
  term: string;
}

/** The words of a text the query matches: its terms anywhere, a phrase's words where they stand as the phrase. */
function matches(text: string, query: AnalyzedQuery, term: TermOf): Match[] {
  const found: Match[] = [];
  const starts = query.starts;
  if (!query.phrases.length && starts) {
    // Only the words starting as a term does are analyzed: a page of 20 hits (bodies of 2.6-3.8 KB)
    // took 0.12-0.40 ms, against 1.4-2.1 ms analyzing every word.
    starts.lastIndex = 0;
    for (let start = starts.exec(text); start; start = starts.exec(text)) {
      const word = tokenAt(text, start.index);
      if (!word) continue;
      const analyzed = term(word.text);
      if (analyzed !== null && query.terms.has(analyzed)) found.push({ start: word.start, end: word.end, term: analyzed });
      starts.lastIndex = word.end;
    }
    return found;
  }
  // Every word analyzed, in place: a phrase's words must stand in a row (a stop word keeps its
  // place, as in the engine's phrase), and a term too short to narrow the words down.
  const words = [...tokens(text)].map((word) => ({ ...word, term: term(word.text) }));
  const inPhrase = new Set<number>();
  for (const phrase of query.phrases) {
    for (let first = 0; first + phrase.length <= words.length; first++) {
      if (phrase.every((part, offset) => part === null || words[first + offset].term === part)) {
        phrase.forEach((part, offset) => part !== null && inPhrase.add(first + offset));
      }
    }
  }
  words.forEach((word, index) => {
    if (word.term !== null && (inPhrase.has(index) || query.terms.has(word.term))) found.push({ start: word.start, end: word.end, term: word.term });
  });
  return found;
}

/** Where a sentence ends: its closing punctuation (and quotes or brackets) before a space, or a line break. */
const SENTENCE_END = /[.!?…]+["'”’»)\]]*(?=\s|$)|\n/g;
/** The same, searched from a given position (its own lastIndex: matchAll starts from SENTENCE_END's). */
const NEXT_SENTENCE_END = new RegExp(SENTENCE_END);

/**
 * The start of the passage holding a match: the start of its sentence, or the match itself when the
 * sentence started too far before it for the passage to reach it (the engine's bounded sentence
 * scanner does the same).
 */
function passageStart(text: string, match: Range): number {
  const from = Math.max(0, match.end - PASSAGE_CHARS);
  let start = from === 0 ? 0 : -1;
  for (const end of text.slice(from, match.start).matchAll(SENTENCE_END)) start = from + end.index + end[0].length;
  return start === -1 ? match.start : start;
}

const WORD_REST = new RegExp(`${WORD_CHARACTER}*`, 'uy');

/** The end of a passage: the last sentence end within PASSAGE_CHARS of its start, else the end of the word that length ends in. */
function passageEnd(text: string, start: number, atLeast: number): number {
  const limit = start + PASSAGE_CHARS;
  if (text.length <= limit) return text.length;
  let end = -1;
  NEXT_SENTENCE_END.lastIndex = atLeast;
  for (let found = NEXT_SENTENCE_END.exec(text); found && found.index + found[0].length <= limit; found = NEXT_SENTENCE_END.exec(text)) {
    end = found.index + found[0].length;
  }
  if (end !== -1) return end;
  WORD_REST.lastIndex = Math.max(limit, atLeast);
  WORD_REST.exec(text);
  return WORD_REST.lastIndex;
}

interface Passage extends Range {
  matches: Match[];
}

function passages(text: string, found: Match[]): Passage[] {
  const all: Passage[] = [];
  for (const match of found) {
    const current = all[all.length - 1];
    if (current && match.start < current.end) {
      current.matches.push(match);
      current.end = Math.max(current.end, match.end);
      continue;
    }
    const start = passageStart(text, match);
    all.push({ start, end: passageEnd(text, start, match.end), matches: [match] });
  }
  return all;
}

// Lucene's passage scorer (BM25 over the passage, earlier passages preferred), each term weighted alike.
const K1 = 1.2;
const B = 0.75;
const PIVOT = 87;

function score(passage: Passage): number {
  const frequencies = new Map<string, number>();
  for (const match of passage.matches) frequencies.set(match.term, (frequencies.get(match.term) ?? 0) + 1);
  const length = passage.end - passage.start;
  let sum = 0;
  for (const frequency of frequencies.values()) sum += frequency / (frequency + K1 * (1 - B + (B * length) / PIVOT));
  return sum * (1 + 1 / Math.log(PIVOT + passage.start));
}

/** A text's best passages (up to PASSAGES, in text order), trimmed and marked; none when nothing matches. */
function bestPassages(text: string, found: Match[]): string[] {
  if (!found.length) return [];
  const all = passages(text, found);
  const best =
    all.length <= PASSAGES
      ? all
      : all
          .map((passage) => ({ passage, score: score(passage) }))
          .sort((a, b) => b.score - a.score || a.passage.start - b.passage.start)
          .slice(0, PASSAGES)
          .map(({ passage }) => passage)
          .sort((a, b) => a.start - b.start);
  return best.map((passage) => {
    const slice = text.slice(passage.start, passage.end);
    const start = passage.start + (slice.length - slice.trimStart().length);
    const end = passage.end - (slice.length - slice.trimEnd().length);
    return markRanges(text, passage.matches, start, end);
  });
}

export interface HighlightedTexts {
  title: string;
  summary: string;
  body: string;
}

export interface Highlight {
  title: string;
  body: string;
}

/**
 * A full-text search's highlighter: for a hit's texts in a configuration (the engine's, see
 * engineConfiguration), the title whole with the query's words marked, and the body highlight: the
 * best passages of the summary, then of the body, two at most; the body's leading text when neither
 * holds a word of the query.
 */
export function fullTextHighlighter(query: string): (texts: HighlightedTexts, configuration: string) => Highlight {
  const analyzed = new Map<string, AnalyzedQuery>();
  return (texts, configuration) => {
    const term = termOf(configuration);
    let analysis = analyzed.get(configuration);
    if (!analysis) analyzed.set(configuration, (analysis = analyzeQuery(query, term)));
    const title = markRanges(texts.title, matches(texts.title, analysis, term));
    const fragments = bestPassages(texts.summary, matches(texts.summary, analysis, term));
    if (fragments.length < PASSAGES) fragments.push(...bestPassages(texts.body, matches(texts.body, analysis, term)));
    const body = fragments.length ? fragments.slice(0, PASSAGES).join(PASSAGE_SEPARATOR) : escapeHtml(leadingText(texts.body));
    return { title, body };
  };
}
