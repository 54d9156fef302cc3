import levenshtein from 'damerau-levenshtein';

/** A letter or digit of any script: what the typo rule's words, and the body's cut, are made of. */
const WORD_CHARACTER = '[\\p{L}\\p{N}]';
const WORD = new RegExp(`${WORD_CHARACTER}+`, 'gu');

/**
 * Typos a word may have by its length (fuzziness AUTO:low,high): none up to 2 letters, one up to 8,
 * two from 9, as Meilisearch allows. Elasticsearch's AUTO allows two from 6 letters; the two-edit
 * automaton per searched field cost the typo query 1.8x its time, for a second typo that short
 * words rarely have and that more often reaches another word.
 */
export const TYPO_FUZZINESS = { oneTypoFrom: 3, twoTyposFrom: 9 };

/** Edits a word may be off by, by the query word's length: the engine's fuzziness. */
const allowedEdits = (length: number) => (length < TYPO_FUZZINESS.oneTypoFrom ? 0 : length < TYPO_FUZZINESS.twoTyposFrom ? 1 : 2);

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A typo-tolerant hit's highlight of a text (its title, its body's leading text): the text (HTML
 * escaped, as every highlight) with the words a query word matches despite its typos marked. A word
 * matches by the rules of the engine's fuzzy title query: the first letter exact, then at most the
 * allowed number of Damerau-Levenshtein edits (a swap of two letters is one), case-insensitive. The
 * service marks these itself: the engine's highlighter expands a fuzzy query against the whole index
 * for every hit and field, which cost several times the search.
 */
export function markTypoMatches(text: string, query: string): string {
  const queryWords = query.toLowerCase().match(WORD) ?? [];
  const matches = (word: string) =>
    queryWords.some((queryWord) => queryWord[0] === word[0] && levenshtein(queryWord, word).steps <= allowedEdits(queryWord.length));
  let marked = '';
  let end = 0;
  for (const found of text.matchAll(WORD)) {
    const word = found[0];
    if (!matches(word.toLowerCase())) continue;
    marked += `${escapeHtml(text.slice(end, found.index))}<mark>${escapeHtml(word)}</mark>`;
    end = found.index + word.length;
  }
  return marked + escapeHtml(text.slice(end));
}

/** How much of a body without matches its highlight shows (the engine's `no_match_size`), and of a typo-tolerant hit's body. */
export const UNMATCHED_BODY_CHARS = 150;
const LEADING_TEXT = new RegExp(`^[\\s\\S]{0,${UNMATCHED_BODY_CHARS}}${WORD_CHARACTER}*`, 'u');

/**
 * The part of a typo-tolerant hit's body its highlight shows (to be marked by markTypoMatches): the
 * first UNMATCHED_BODY_CHARS characters and the rest of the word they end in, as the engine's highlighter
 * shows a body without matches. The service cuts it from the document it reads for the hit anyway:
 * asking the engine for it made it load and parse every hit's stored document, a third of the typo
 * search's time in the engine.
 */
export const leadingText = (body: string): string => (LEADING_TEXT.exec(body) as RegExpExecArray)[0];
