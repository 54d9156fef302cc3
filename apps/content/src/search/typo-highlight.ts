import levenshtein from 'damerau-levenshtein';
import { Highlight, HighlightedTexts, leadingText, markRanges } from './highlight';
import { tokens } from './text-analysis';

/**
 * Typos a word may have by its length (fuzziness AUTO:low,high): none up to 2 letters, one up to 8,
 * two from 9, as Meilisearch allows. Elasticsearch's AUTO allows two from 6 letters; the two-edit
 * automaton per searched field cost the typo query 1.8x its time, for a second typo that short
 * words rarely have and that more often reaches another word.
 */
export const TYPO_FUZZINESS = { oneTypoFrom: 3, twoTyposFrom: 9 };

/** Edits a word may be off by, by the query word's length: the engine's fuzziness. */
const allowedEdits = (length: number) => (length < TYPO_FUZZINESS.oneTypoFrom ? 0 : length < TYPO_FUZZINESS.twoTyposFrom ? 1 : 2);

/**
 * A typo-tolerant hit's highlight of a text (its title, its body's leading text): the text (HTML
 * escaped, as every highlight) with the words a query word matches despite its typos marked. A word
 * matches by the rules of the engine's fuzzy title query: the first letter exact, then at most the
 * allowed number of Damerau-Levenshtein edits (a swap of two letters is one), case-insensitive. The
 * service marks these itself: the engine's highlighter expands a fuzzy query against the whole index
 * for every hit and field, which cost several times the search.
 */
export function markTypoMatches(text: string, query: string): string {
  const queryWords = [...tokens(query.toLowerCase())].map((word) => word.text);
  const matches = (word: string) =>
    queryWords.some((queryWord) => queryWord[0] === word[0] && levenshtein(queryWord, word).steps <= allowedEdits(queryWord.length));
  return markRanges(text, [...tokens(text)].filter((word) => matches(word.text.toLowerCase())));
}

/** A typo-tolerant search's highlighter: the title and the body's leading text, each marked by the typo rule. */
export const typoHighlighter =
  (query: string) =>
  (texts: HighlightedTexts): Highlight => ({ title: markTypoMatches(texts.title, query), body: markTypoMatches(leadingText(texts.body), query) });
