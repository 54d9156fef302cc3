// @nlpjs/lang-ru ships no types; the service uses only its Snowball Russian stemmer.
declare module '@nlpjs/lang-ru' {
  export class StemmerRu {
    /** The stem of one lower-case word. */
    stemWord(word: string): string;
  }
}
