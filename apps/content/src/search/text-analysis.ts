import { StemmerRu } from '@nlpjs/lang-ru';
import { stemmer as porterStem } from 'stemmer';

/**
 * The engine's text analysis (OpenSearch's `english`, `russian` and `standard` analyzers, which
 * search-index.mapping.ts gives each configuration's fields), done in the service so it can mark
 * the words a search matched in the texts it reads anyway. The stemmers are the engine's
 * algorithms: Porter's original with the reference implementation's `bli` -> `ble` (as Lucene's
 * PorterStemmer), and Snowball's Russian with `ё` read as `е`. Checked against the engine's
 * `_analyze` on 274 937 English and 146 229 Russian dictionary words: no word analyzed differently.
 */

/** A letter, combining mark, digit or connector (`_`) of any script: what words are made of. */
export const WORD_CHARACTER = '[\\p{L}\\p{M}\\p{N}\\p{Pc}]';
const WORD_PART = '[[\\p{L}\\p{M}\\p{N}\\p{Pc}]--[\\p{sc=Han}\\p{sc=Hiragana}]]';

/**
 * A word as Unicode's word boundaries (UAX #29, the engine's standard tokenizer) find it: letters
 * and digits joined by an apostrophe or a full stop (`don't`, `e.g`, `3.14`), letters also by a
 * colon, digits by a comma (`1,000`); each Han or Hiragana character is a word of its own.
 */
const TOKEN_PATTERN = `[\\p{sc=Han}\\p{sc=Hiragana}]|${WORD_PART}+(?:['’.]${WORD_PART}+|(?<=\\p{L})[:·](?=\\p{L})${WORD_PART}+|(?<=\\p{N})[,;](?=\\p{N})${WORD_PART}+)*`;
const TOKEN = new RegExp(TOKEN_PATTERN, 'gv');
const TOKEN_AT = new RegExp(TOKEN_PATTERN, 'yv');
const WORD_CHARACTER_ONLY = new RegExp(`^${WORD_CHARACTER}$`, 'u');
/** A character that joins two words into one token (TOKEN), so a word after it is not a token's start. */
const JOINED = new RegExp(`(?:${WORD_CHARACTER}['’.]|\\p{L}[:·]|\\p{N}[,;])$`, 'u');

export interface Token {
  /** The word as written. */
  text: string;
  start: number;
  end: number;
}

export function* tokens(text: string): Generator<Token> {
  for (const found of text.matchAll(TOKEN)) yield { text: found[0], start: found.index, end: found.index + found[0].length };
}

/** The token starting at `start`, if one does (not within a word, nor after a joining character). */
export function tokenAt(text: string, start: number): Token | undefined {
  if (start > 0 && (WORD_CHARACTER_ONLY.test(text[start - 1]) || JOINED.test(text.slice(Math.max(0, start - 2), start)))) return undefined;
  TOKEN_AT.lastIndex = start;
  const found = TOKEN_AT.exec(text);
  return found ? { text: found[0], start, end: start + found[0].length } : undefined;
}

/**
 * Where the words that may analyze to some terms start: a word's term, lower-cased, keeps all but
 * its last letter from the word (Porter's stemmer may change the last: `happy` -> `happi`;
 * Snowball's Russian only cuts, `ё` read as `е`). Checked on the dictionaries above. Null when a
 * term is too short for its start to narrow anything.
 */
export function termStarts(terms: Iterable<string>): RegExp | null {
  const starts = [...terms].map((term) => term.slice(0, -1));
  if (!starts.length || starts.some((start) => start.length < 2)) return null;
  const pattern = starts.map((start) => start.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replaceAll('е', '[её]')).join('|');
  return new RegExp(pattern, 'giu');
}

/** What a configuration's analyzer makes of one word: its indexed term, or null for a stop word (never indexed). */
export type TermOf = (word: string) => string | null;

const ENGLISH_STOP_WORDS = new Set(
  'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with'.split(' '),
);

/** Snowball's Russian stop words (written with `е` for `ё`), which Lucene's Russian analyzer removes. */
const RUSSIAN_STOP_WORDS = new Set(
  `и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему
   теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам сказал ведь там потом себя ничего ей
   может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто человек чего раз тоже себе под жизнь будет ж тогда
   кто этот говорил того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее кажется сейчас были куда зачем
   сказать всех никогда сегодня можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много
   разве сказала три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между`.split(/\s+/),
);

/** Stems are memoised per analyzer; a bound keeps a service reading many texts from growing without end. */
const MEMOISED_TERMS = 50_000;

function memoised(term: (word: string) => string | null): TermOf {
  const terms = new Map<string, string | null>();
  return (word) => {
    let found = terms.get(word);
    if (found === undefined) {
      if (terms.size >= MEMOISED_TERMS) terms.clear();
      found = term(word);
      terms.set(word, found);
    }
    return found;
  };
}

/** The English possessive filter: a trailing `'s` is not part of the word. */
const POSSESSIVE = /['’＇][sS]$/;

const russianStemmer = new StemmerRu();

const ANALYZERS: Record<string, TermOf> = {
  english: memoised((word) => {
    const lower = word.replace(POSSESSIVE, '').toLowerCase();
    return ENGLISH_STOP_WORDS.has(lower) ? null : porterStem(lower);
  }),
  russian: memoised((word) => {
    const lower = word.toLowerCase();
    return RUSSIAN_STOP_WORDS.has(lower) ? null : russianStemmer.stemWord(lower.replaceAll('ё', 'е'));
  }),
  // The standard analyzer: lower case, no stop words, no stemming.
  simple: (word) => word.toLowerCase(),
};

/** The analysis of an engine configuration (see ENGINE_CONFIGURATIONS): `simple` for any other. */
export const termOf = (configuration: string): TermOf => ANALYZERS[configuration] ?? ANALYZERS.simple;
