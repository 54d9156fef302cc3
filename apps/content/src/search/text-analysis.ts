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

/** A letter, combining mark, decimal digit, letter number or connector (`_`) of any script: what words are made of. */
export const WORD_CHARACTER = '[\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}]';
const WORD_PART = '[[\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}]--[\\p{sc=Han}\\p{sc=Hiragana}]]';
const LETTER = '[[\\p{L}\\p{Nl}]--[\\p{sc=Han}\\p{sc=Hiragana}]]';
const DIGIT = '\\p{Nd}';
/** UAX #29's MidLetter, MidNumLet and Single_Quote: they join two letters. */
const LETTER_JOINERS = "[':·.\\u0387\\u05F4\\u2018\\u2019\\u2024\\u2027\\uFE13\\uFE52\\uFE55\\uFF07\\uFF0E\\uFF1A]";
/** UAX #29's MidNum, MidNumLet and Single_Quote: they join two digits. */
const DIGIT_JOINERS = "[',;.\\u037E\\u0589\\u060C\\u060D\\u066C\\u07F8\\u2018\\u2019\\u2024\\u2044\\uFE10\\uFE14\\uFE50\\uFE52\\uFE54\\uFF07\\uFF0C\\uFF0E\\uFF1B]";
/** The joining character before what it joins: most words end at a space, which fails at once (the other order took 1.4x the time). */
const JOIN = `${LETTER_JOINERS}(?<=${LETTER}\\p{M}*.)(?=${LETTER})|${DIGIT_JOINERS}(?<=${DIGIT}\\p{M}*.)(?=${DIGIT})`;

/**
 * A word as Unicode's word boundaries (UAX #29, the engine's standard tokenizer) find it: letters
 * joined by an apostrophe, a full stop or a colon (`don't`, `e.g`, `a:b`), digits by an apostrophe,
 * a full stop or a comma (`3.14`, `1,000`), but a letter and a digit never (`a.1` is two words);
 * each Han or Hiragana character is a word of its own.
 */
const TOKEN_PATTERN = `[\\p{sc=Han}\\p{sc=Hiragana}]|${WORD_PART}+(?:(?:${JOIN})${WORD_PART}+)*`;
const TOKEN = new RegExp(TOKEN_PATTERN, 'gv');
const TOKEN_AT = new RegExp(TOKEN_PATTERN, 'yv');
const WORD_CHARACTER_ONLY = new RegExp(`^${WORD_CHARACTER}$`, 'u');
/** At a position that continues the word before it across a joining character (JOIN): no token starts there. */
const JOINED_AT = new RegExp(`(?<=${LETTER}\\p{M}*${LETTER_JOINERS})${LETTER}|(?<=${DIGIT}\\p{M}*${DIGIT_JOINERS})${DIGIT}`, 'yv');

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
  if (start > 0 && (WORD_CHARACTER_ONLY.test(text[start - 1]) || joinedAt(text, start))) return undefined;
  TOKEN_AT.lastIndex = start;
  const found = TOKEN_AT.exec(text);
  return found ? { text: found[0], start, end: start + found[0].length } : undefined;
}

function joinedAt(text: string, start: number): boolean {
  JOINED_AT.lastIndex = start;
  return JOINED_AT.test(text);
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
  const pattern = starts.map((start) => start.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replaceAll('е', '[её]').replaceAll('i', '[iİ]')).join('|');
  return new RegExp(pattern, 'giu');
}

/**
 * Lower case as the engine's filter makes it: Java's per-character mapping, so `İ` is `i` (not `i̇`)
 * and `Σ` is always `σ` (never the final `ς`).
 */
function lowerCase(word: string): string {
  return word.replaceAll('\u0130', 'i').replaceAll('Σ', 'σ').toLowerCase();
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
    const lower = lowerCase(word.replace(POSSESSIVE, ''));
    return ENGLISH_STOP_WORDS.has(lower) ? null : porterStem(lower);
  }),
  russian: memoised((word) => {
    const lower = lowerCase(word);
    return RUSSIAN_STOP_WORDS.has(lower) ? null : russianStemmer.stemWord(lower.replaceAll('ё', 'е'));
  }),
  // The standard analyzer: lower case, no stop words, no stemming.
  simple: lowerCase,
};

/** The analysis of an engine configuration (see ENGINE_CONFIGURATIONS): `simple` for any other. */
export const termOf = (configuration: string): TermOf => ANALYZERS[configuration] ?? ANALYZERS.simple;
