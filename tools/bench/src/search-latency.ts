import { Client } from '@opensearch-project/opensearch';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { OpenSearchNode, graphql, graphqlData, startOpenSearchNode, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, percentile } from './infrastructure';
import { cpuMicrosecondsIfRunning, postgresPids } from './process-cpu';

/*
 * Search latency on a realistic corpus: 100k documents in Russian, English and Tatar seeded
 * straight into PostgreSQL for one tenant, then four typical searchDocuments queries measured
 * through the gateway and straight against the content subgraph with the same token. Opt-in
 * (BENCH_SEARCH_SCALE_DOCUMENTS, e.g. 1000000): a second tenant with that many documents and
 * the same four queries uncached through the gateway, the scaling row.
 *
 * With the search engine (BENCH_SEARCH_ENGINE=opensearch, the default), the platform's content
 * service searches an OpenSearch node (tools/opensearch) that its indexer fills from the change
 * queue after seeding, and a second content instance without one, on the same database, is the
 * PostgreSQL baseline of the same run (target `direct-postgres`).
 */

export interface SearchLatencyOptions {
  /** Documents to seed (BENCH_SEARCH_DOCUMENTS, 100 000 by default). */
  documents: number;
  /** Seconds measured per query and target, after `warmupSeconds` unmeasured. */
  durationSeconds: number;
  warmupSeconds?: number;
  /** Concurrent clients (keep-alive connections). */
  connections: number;
  /** Seed of the corpus generator: the same seed gives the same corpus. */
  seed?: number;
  /** Connections inserting documents in parallel while seeding. */
  seedConnections?: number;
  /** DATABASE_POOL_MAX of the content service; its default (10) when omitted. */
  contentPoolMax?: number;
  /**
   * Documents of a second tenant seeded after the main runs for the scaling row, measured
   * uncached through the gateway (BENCH_SEARCH_SCALE_DOCUMENTS; none by default: 1M seeds for many minutes).
   */
  scaleDocuments?: number;
  /** Serve search from an OpenSearch node (BENCH_SEARCH_ENGINE=opensearch, the default) or only from PostgreSQL (postgres). */
  engine?: 'opensearch' | 'postgres';
  /**
   * A checkout of the baseline commit with content built (BENCH_SEARCH_BASELINE_ROOT): its content
   * runs as one more instance on the same platform and index (target `direct-baseline`), measured
   * like `direct` in the same run, for a change's before and after.
   */
  baselineRoot?: string;
}

/** How long after the seeding ended the indexer (draining the queue while it ran) had every document in the engine. */
export interface IndexingReport {
  documents: number;
  ms: number;
  documentsPerSecond: number;
}

/**
 * An upgrade to the service's index layout, played after the runs: the alias put on an empty index
 * of the previous layout version, then the time until the service has built its own beside it
 * (every document, while it serves) and moved the alias back.
 */
export interface LayoutBuildReport {
  documents: number;
  ms: number;
  documentsPerSecond: number;
}

export interface SeedingReport {
  documents: number;
  tags: number;
  authors: number;
  documentTags: number;
  documentAuthors: number;
  /** Translations into another corpus language (about a tenth of the documents). */
  translations: number;
  /** Generate + insert (search_vector and indexes are maintained by PostgreSQL on insert). */
  insertMs: number;
  /** VACUUM (ANALYZE) afterwards: flushes GIN pending lists, sets the visibility map, gathers statistics. */
  vacuumAnalyzeMs: number;
  totalMs: number;
  documentsPerSecond: number;
  /** pg_total_relation_size of content.documents (heap, TOAST and indexes). */
  documentsTableBytes: number;
  /** pg_total_relation_size of content.document_search_entries, the narrow search table (heap, TOAST, indexes). */
  searchEntriesBytes: number;
  byLanguage: Record<string, number>;
}

export interface SearchQueryCase {
  name: string;
  description: string;
  input: Record<string, unknown>;
  /** From the verification call: matches (counted up to the service's limit), whether that is a lower bound, and whether the fuzzy path answered. */
  totalCount: number;
  totalCountRelation: 'EQ' | 'GTE';
  fuzzy: boolean;
}

export interface SearchLatencyRun {
  query: string;
  /** direct-postgres: a content instance without the engine (the same run's PostgreSQL baseline); direct-baseline: the baseline commit's content. */
  target: 'gateway' | 'direct' | 'direct-postgres' | 'direct-baseline';
  /** uncached: every request misses the content service's result cache (the search engine or PostgreSQL answers); cached: the same request repeated. */
  cache: 'uncached' | 'cached';
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  /** 2xx responses carrying GraphQL errors or no edges. */
  graphqlErrors: number;
  /** Median of sequential requests (one client, no queueing): the service time itself. */
  serialP50Ms: number;
  /** Failed requests among the sequential ones. */
  serialErrors: number;
  /**
   * CPU time per request of the measured load (16 clients), in ms, by process (/proc): gateway,
   * content (the target's), engine (the OpenSearch JVM), postgresql (postmaster and backends),
   * load (this process: the load generator).
   */
  cpuMsPerRequest: Record<string, number>;
}

/** The scaling row: the same queries uncached through the gateway in a tenant of `documents` documents. */
export interface SearchScaleResult {
  seeding: SeedingReport;
  queries: SearchQueryCase[];
  runs: SearchLatencyRun[];
}

export interface SearchLatencyResult {
  seeding: SeedingReport;
  /** Present when the engine served the searches. */
  indexing?: IndexingReport;
  /** Present when the engine served the searches. */
  layoutBuild?: LayoutBuildReport;
  engine: 'opensearch' | 'postgres';
  queries: SearchQueryCase[];
  runs: SearchLatencyRun[];
  scale?: SearchScaleResult;
  connections: number;
  durationSeconds: number;
  /** The content service's DATABASE_POOL_MAX during the runs (undefined: its default). */
  contentPoolMax?: number;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

type Random = () => number;

/**
 * sfc32 (128-bit state) seeded through splitmix32: independent streams per seed, so batches
 * generated from neighbouring seeds do not overlap (a 32-bit generator's streams would).
 */
function createRandom(seed: number): Random {
  let x = seed >>> 0;
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

const mix = (a: number, b: number) => Math.imul(a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b), 0xc2b2ae35) >>> 0;
const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

function uuid(random: Random): string {
  const hex = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  hex[6] = (hex[6] & 0x0f) | 0x40;
  hex[8] = (hex[8] & 0x3f) | 0x80;
  const s = hex.map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** Zipf-distributed ranks (p(rank) ~ 1 / (rank + 1)^exponent), sampled in O(1) with Vose's alias method. */
class Zipf {
  private readonly probability: Float64Array;
  private readonly alias: Int32Array;

  constructor(
    readonly size: number,
    exponent: number,
  ) {
    const weights = Array.from({ length: size }, (_, rank) => 1 / Math.pow(rank + 1, exponent));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    const scaled = weights.map((weight) => (weight * size) / total);
    this.probability = new Float64Array(size);
    this.alias = new Int32Array(size);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((value, index) => (value < 1 ? small : large).push(index));
    while (small.length && large.length) {
      const less = small.pop() as number;
      const more = large.pop() as number;
      this.probability[less] = scaled[less];
      this.alias[less] = more;
      scaled[more] = scaled[more] + scaled[less] - 1;
      (scaled[more] < 1 ? small : large).push(more);
    }
    for (const index of [...small, ...large]) this.probability[index] = 1;
  }

  sample(random: Random): number {
    const index = Math.floor(random() * this.size);
    return random() < this.probability[index] ? index : this.alias[index];
  }
}

// ---------------------------------------------------------------------------------------------
// Vocabularies: a few hundred common real words per language, most frequent first, extended
// with syllable-built words to a few thousand; word frequencies follow Zipf's law.
// ---------------------------------------------------------------------------------------------

const words = (text: string) => text.trim().split(/\s+/);

interface LanguageSpec {
  code: 'en' | 'ru' | 'tt';
  searchConfig: 'english' | 'russian' | 'simple';
  share: number;
  /** Articles, prepositions, pronouns, particles: frequent in text, rare in titles. */
  functionWords: string[];
  /** Real content words, roughly most frequent first. */
  contentWords: string[];
  generateWord(random: Random): string;
  firstNames: string[];
  lastNames: string[];
}

const syllableWord =
  (onsets: string[], vowels: string[], codas: string[], endings: string[], syllables: [number, number]) =>
  (random: Random) => {
    let word = '';
    const count = between(random, syllables[0], syllables[1]);
    for (let i = 0; i < count; i++) word += pick(random, onsets) + pick(random, vowels) + (i === count - 1 ? '' : pick(random, codas));
    return word + pick(random, endings);
  };

const ENGLISH: LanguageSpec = {
  code: 'en',
  searchConfig: 'english',
  share: 0.4,
  functionWords: words(`
    the of and to a in that it was for on with as his he at by from this had not but be are or they her she
    which we you their were an one all there been has have would when what more if no out so up into them some
    could him than then its only over also after about like through where before our my now very even still
    every each other these those while because under again most just many both between without against
  `),
  contentWords: words(`
    time people year way day man world life hand part child eye woman place work home water night book word
    house light city river forest mountain garden road village window door field winter summer spring morning
    evening heart voice memory dream song letter language history music silence stone snow rain wind fire sea
    sky star moon sun tree flower bird horse bread table school teacher student friend father mother brother
    sister family country nation story question answer power war peace truth love hope fear death land earth
    know think take see come want look find give tell write read remember speak walk carry build learn open
    begin believe hold bring happen sit stand lose meet continue change lead understand watch follow stop
    create grow offer wait serve send expect stay fall reach remain raise pass return sing listen travel
    new old good great little long young small large high early important last different late dark bright
    quiet cold warm deep ancient strange simple beautiful silent heavy free true whole strong white black red
    green blue golden gentle wild lonely distant narrow empty soft sudden bitter sweet proud poor rich tired
    church market bridge harbor island valley desert ocean lake shore hill meadow orchard barn cottage castle
    tower street square station train ship boat journey voyage stranger neighbor soldier king queen prince
    poet writer painter doctor farmer fisherman merchant priest judge hunter shepherd miller baker sailor
    paper picture mirror candle lamp clock bell coat shoe hat ring knife sword shield glass bottle basket
    apple wheat grass leaf root branch seed blossom rose oak pine birch willow maple fox wolf bear deer owl
    crow swan eagle fish salmon cloud storm thunder frost ice dust smoke shadow dawn dusk midnight noon
    century age moment season decade childhood youth summer harvest festival wedding funeral prayer song
    thought idea reason spirit soul mind body blood bone face hair shoulder finger breath tear smile laughter
    kindness courage wisdom beauty sorrow joy anger grief pride shame longing faith justice freedom duty honor
    science knowledge method theory experiment evidence problem solution system structure process concept
    nature society culture tradition custom ritual legend myth tale novel chapter verse rhyme line stanza
    teacher lesson grammar dictionary translation meaning sense sound rhythm melody dance theater stage
  `),
  generateWord: syllableWord(
    words('b br c ch cl d dr f fl g gr h j k l m n p pl pr r s sh st sl t th tr v w wh'),
    words('a e i o u ea ee ai ou oa ie'),
    words('n r l s m t nd st rn ll'),
    ['', '', '', 's', 'ing', 'ed', 'er', 'ly', 'ness', 'ment', 'tion', 'ful', 'less'],
    [1, 3],
  ),
  firstNames: words('John Mary James Anna Robert Emily Thomas Sarah William Alice George Helen Edward Grace Henry Clara Arthur Jane Walter Rose'),
  lastNames: words('Smith Brown Taylor Wilson Clarke Hughes Walker Wright Green Hall Wood Harris Lewis Turner Baker Carter Morgan Cooper Ward Bennett'),
};

const RUSSIAN: LanguageSpec = {
  code: 'ru',
  searchConfig: 'russian',
  share: 0.4,
  functionWords: words(`
    и в не на я что он с это а как по но они к у же из за она то все так его от мы бы для о вы только уже
    когда было был была были если даже еще где там тут потом здесь очень ее их ним ней себя свой свою
    этот эта эти тот та те который которая которые чтобы или ни до после без под над между через
  `),
  contentWords: words(`
    время времени человек люди людей год года лет день дня жизнь жизни рука руки глаза дом дома доме слово
    слова город города лес леса лесу река реки реке поле небо солнце луна звезда звезды земля земли вода воды
    ветер снег дождь огонь море гора горы дорога дороги дороге сад окно дверь мать отец брат сестра друг
    дети ребенок школа учитель книга книги письмо песня песни стихи язык языка история истории память сердце
    голос душа мир мира война ночь ночи утро вечер зима лето весна осень деревня деревни страна народ хлеб
    стол камень птица птицы конь цветы дерево деревья тишина музыка мысль мысли правда любовь счастье
    надежда судьба дело место сторона вопрос ответ работа берег берегу поезд мост площадь улица улицы
    знать знал думал говорил сказал сказала видел пришел шел стоял сидел смотрел писал читал жил любил
    помнил ждал слышал понимал хотел может можно нужно надо будет есть стал стала идет живет пишет говорит
    знает думает любит помнит ищет находит возвращается уходит поет молчит
    новый старый старого большой маленький белый черный красный зеленый синий темный светлый тихий холодный
    теплый далекий родной последний первый другой каждый весь вся долгий глубокий высокий золотой молодой
    живой простой странный русский народный старая старые новые тихо долго далеко
    церковь рынок остров долина пустыня океан озеро холм луг изба избы хата замок башня вокзал корабль лодка
    путь путешествие незнакомец сосед солдат царь царица князь поэт писатель художник врач крестьянин
    рыбак купец священник судья охотник пастух мельник пекарь моряк бумага картина зеркало свеча лампа часы
    колокол пальто шапка кольцо нож меч стекло бутылка корзина яблоко пшеница трава лист корень ветка семя
    роза дуб сосна береза ива клен лиса волк медведь олень сова ворона лебедь орел рыба туча буря гром мороз
    лед пыль дым тень рассвет сумерки полночь полдень век возраст мгновение детство юность урожай праздник
    свадьба молитва мысль идея причина дух ум тело кровь лицо волосы плечо палец дыхание слеза улыбка смех
    доброта мужество мудрость красота печаль радость гнев горе гордость стыд тоска вера справедливость
    свобода долг честь наука знание метод теория опыт задача решение система понятие природа общество
    культура традиция обычай обряд легенда миф сказка роман глава строка рифма урок грамматика словарь
    перевод смысл звук ритм мелодия танец театр сцена
  `),
  generateWord: syllableWord(
    words('б в г д ж з к л м н п р с т ф х ч ш ст пр кр тр сл гр бр дв зв'),
    words('а о е и у я ы ё'),
    words('н р л с т в й м'),
    ['', '', 'а', 'ов', 'ой', 'ость', 'ение', 'ать', 'ил', 'ая', 'ый', 'ые', 'ах', 'ами', 'ому', 'ем', 'ет', 'ют'],
    [1, 3],
  ),
  firstNames: words('Иван Мария Алексей Анна Сергей Елена Николай Ольга Михаил Татьяна Андрей Наталья Дмитрий Ирина Павел Светлана Владимир Людмила Петр Галина'),
  lastNames: words('Иванов Петров Смирнов Кузнецов Попов Соколов Лебедев Козлов Новиков Морозов Волков Соловьев Васильев Зайцев Павлов Семенов Голубев Виноградов Богданов Воробьев'),
};

const TATAR_BACK = words('а ы о у');
const TATAR_FRONT = words('ә е ө ү и');

const TATAR: LanguageSpec = {
  code: 'tt',
  searchConfig: 'simple',
  share: 0.2,
  functionWords: words(`
    һәм бу ул да дә белән өчен бер мин син без сез алар юк бар инде тагын әле гына генә кебек турында соң
    шул шундый нинди ничек кайчан кайда нәрсә бик иң ләкин әмма чөнки яки түгел кирәк мөмкин һәр үз
    аның минем синең безнең аларның аңа миңа сиңа бөтен барлык башка
  `),
  contentWords: words(`
    туган тел теле телне халык халкы ил иле җир җире су суы ут һава көн төн иртә кич кыш җәй яз көз кояш
    ай йолдыз күк болыт яңгыр кар җил урман урманы елга елгасы күл тау кыр басу бакча юл юлы авыл авылы
    шәһәр өй өе ишек тәрәзә ана әни ата әти бала балалар кыз малай егет кеше кешеләр дус дуслар мәктәп
    укытучы китап китабы хат җыр җырлар шигырь шигырьләр сүз сүзләр уй уйлар йөрәк күңел җан тормыш дөнья
    вакыт ел еллар тарих хәтер мәхәббәт бәхет өмет язмыш эш хезмәт икмәк ат кош кошлар чәчәк чәчәкләр агач
    таш килде китте күрде белә әйтте сөйләде язды укыды яшәде яши сөя сөйде көтте ишетте уйлады карады
    утырды торды йөрде кайтты барды килә бара була булды булган иде
    яңа иске зур кечкенә матур ак кара кызыл яшел зәңгәр озын кыска якты караңгы җылы салкын тын ерак
    якын газиз кадерле моңлы сагыш моң җыры сандугач аккош бүре төлке аю имән каен карлыган алма бодай
    үлән яфрак тамыр болын үзән диңгез утрау күпер мәчет базар урам мәйдан поезд көймә сәяхәт күрше
    солдат патша шагыйрь язучы рәссам табиб игенче балыкчы сәүдәгәр мулла аучы көтүче тегермән
    кәгазь рәсем көзге шәм сәгать кыңгырау бүрек балдак пычак кылыч стакан кәрзин томан давыл күкрәү
    суык боз тузан төтен күләгә таң шәфәкъ төн уртасы гасыр яшь мизгел балачак яшьлек уңыш бәйрәм туй
    дога фикер сәбәп рух акыл тән кан йөз чәч иңбаш бармак сулыш күз яшь елмаю көлү игелек батырлык
    зирәклек гүзәллек кайгы шатлык ачу горурлык оят сагыну иман гаделлек азатлык бурыч намус фән белем
    ысул теория тәҗрибә мәсьәлә чишелеш табигать җәмгыять мәдәният гореф йола риваять әкият роман бүлек
    юл рифма дәрес грамматика сүзлек тәрҗемә мәгънә тавыш ритм көй бию театр сәхнә
  `),
  generateWord: (random: Random) => {
    const vowels = random() < 0.5 ? TATAR_BACK : TATAR_FRONT;
    const back = vowels === TATAR_BACK;
    const onsets = words('б в г д җ з к л м н п р с т ш ч й х һ');
    const codas = words('н р л с т ң ш й м к');
    let word = '';
    const count = between(random, 1, 3);
    for (let i = 0; i < count; i++) word += pick(random, onsets) + pick(random, vowels) + (random() < 0.6 ? pick(random, codas) : '');
    const endings = back ? ['', '', 'лар', 'да', 'ның', 'га', 'ны', 'лы', 'чы', 'лык'] : ['', '', 'ләр', 'дә', 'нең', 'гә', 'не', 'ле', 'че', 'лек'];
    return word + pick(random, endings);
  },
  firstNames: words('Габдулла Гөлнара Рөстәм Алсу Ильдар Зөлфия Марат Гүзәл Фәрит Ләйсән Айдар Чулпан Ринат Әлфия Таһир Сәрия Хәсән Рәзидә Мансур Фәридә'),
  lastNames: words('Тукай Исхакый Җәлил Гыйззәт Сабитов Хәйруллин Галиев Мөхәммәтов Вәлиев Садыйков Закиров Гарипов Нуриев Шәрипов Хафизов Ибраһимов Кәримов Әхмәтов Миңнуллин Сафин'),
};

const LANGUAGES = [RUSSIAN, ENGLISH, TATAR];
const VOCABULARY_SIZE = 4000;

interface Vocabulary {
  spec: LanguageSpec;
  /** Function words, then content words, then generated words: index = frequency rank. */
  all: string[];
  /** Content and generated words only (titles). */
  content: string[];
  text: Zipf;
  titles: Zipf;
}

/** Words a benchmark query relies on being absent from the corpus (typos). */
const RESERVED = new Set(['mountian', 'montain']);

function buildVocabulary(spec: LanguageSpec, seed: number): Vocabulary {
  const random = createRandom(mix(seed, spec.code.charCodeAt(0) * 31 + spec.code.charCodeAt(1)));
  const seen = new Set<string>();
  const all: string[] = [];
  for (const word of [...spec.functionWords, ...spec.contentWords]) {
    if (!seen.has(word)) all.push(word);
    seen.add(word);
  }
  const generated: string[] = [];
  while (all.length + generated.length < VOCABULARY_SIZE) {
    const word = spec.generateWord(random);
    if (word.length < 3 || seen.has(word) || RESERVED.has(word)) continue;
    seen.add(word);
    generated.push(word);
  }
  // Real words are the frequent ones, but some invented words are common too (names, jargon):
  // scatter a few of them into the top ranks.
  for (let i = 0; i < 60; i++) all.splice(spec.functionWords.length + 40 + i * 6, 0, generated.pop() as string);
  all.push(...generated);
  const content = all.slice(spec.functionWords.length);
  return { spec, all, content, text: new Zipf(all.length, 1.0), titles: new Zipf(content.length, 0.9) };
}

// ---------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------

const TYPES = [
  ['article', 0.35],
  ['prose', 0.25],
  ['poem', 0.25],
  ['concept', 0.15],
] as const;
const STATUSES = [
  ['published', 0.9],
  ['draft', 0.07],
  ['archived', 0.03],
] as const;
const TAG_NAMES = words(`
  poetry nature history science philosophy travel city love war childhood folklore music art religion language
  education technology family memoir essay translation classics drama humor поэзия история природа
  әдәбият тарих табигать
`);
const TAG_COLORS = words('#aa3300 #00aa33 #3355cc #cc9900 #7733aa #008888 #555555 #cc3377');
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 0, 1);

function weighted<T extends string>(random: Random, table: readonly (readonly [T, number])[]): T {
  let r = random();
  for (const [value, weight] of table) {
    if ((r -= weight) < 0) return value;
  }
  return table[table.length - 1][0];
}

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

function sentence(random: Random, vocabulary: Vocabulary, length: number): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) {
    let word = vocabulary.all[vocabulary.text.sample(random)];
    if (i === 0) word = capitalize(word);
    if (i < length - 1 && i > 1 && random() < 0.08) word += ',';
    parts.push(word);
  }
  const end = random();
  return parts.join(' ') + (end < 0.05 ? '?' : end < 0.08 ? '!' : '.');
}

function titleText(random: Random, vocabulary: Vocabulary): string {
  const length = between(random, 3, 8);
  const parts: string[] = [];
  for (let i = 0; i < length; i++) {
    // Titles are mostly content words, with the odd function word ("of the", "и", "һәм").
    const word =
      i > 0 && i < length - 1 && random() < 0.15
        ? pick(random, vocabulary.spec.functionWords.slice(0, 12))
        : vocabulary.content[vocabulary.titles.sample(random)];
    parts.push(i === 0 ? capitalize(word) : word);
  }
  return parts.join(' ');
}

function bodyText(random: Random, vocabulary: Vocabulary, type: string): string {
  if (type === 'poem') {
    const target = between(random, 150, 300);
    const stanzas: string[] = [];
    let count = 0;
    while (count < target) {
      const lines: string[] = [];
      for (let line = 0; line < 4; line++) {
        const length = between(random, 4, 8);
        lines.push(sentence(random, vocabulary, length).slice(0, -1) + (line === 3 ? '.' : ','));
        count += length;
      }
      stanzas.push(lines.join('\n'));
    }
    return stanzas.join('\n\n');
  }
  const target = between(random, 150, 600);
  const paragraphs: string[] = [];
  let count = 0;
  while (count < target) {
    const sentences: string[] = [];
    const heading = type !== 'prose' && paragraphs.length > 0 && random() < 0.3;
    for (let i = between(random, 3, 6); i > 0 && count < target; i--) {
      const length = between(random, 6, 20);
      sentences.push(sentence(random, vocabulary, length));
      count += length;
    }
    paragraphs.push((heading ? `## ${titleText(random, vocabulary)}\n\n` : '') + sentences.join(' '));
  }
  return paragraphs.join('\n\n');
}

interface Catalog {
  tags: { id: string; name: string; color: string }[];
  authors: { id: string; name: string; language: string }[];
  authorsByLanguage: Map<string, string[]>;
  tagPopularity: Zipf;
}

function buildCatalog(seed: number): Catalog {
  const random = createRandom(mix(seed, 1));
  const tags = TAG_NAMES.map((name, index) => ({ id: uuid(random), name, color: TAG_COLORS[index % TAG_COLORS.length] }));
  const authors: Catalog['authors'] = [];
  const counts = { ru: 80, en: 80, tt: 40 };
  for (const spec of LANGUAGES) {
    const names = new Set<string>();
    while (names.size < counts[spec.code]) names.add(`${pick(random, spec.firstNames)} ${pick(random, spec.lastNames)}`);
    for (const name of names) authors.push({ id: uuid(random), name, language: spec.code });
  }
  const authorsByLanguage = new Map(LANGUAGES.map((spec) => [spec.code as string, authors.filter((a) => a.language === spec.code).map((a) => a.id)]));
  return { tags, authors, authorsByLanguage, tagPopularity: new Zipf(tags.length, 0.8) };
}

interface DocumentBatch {
  id: string[];
  title: string[];
  summary: string[];
  body: string[];
  type: string[];
  status: string[];
  language: string[];
  searchConfig: string[];
  tagNames: string[];
  viewCount: number[];
  likeCount: number[];
  publishedAt: (string | null)[];
  createdAt: string[];
  updatedAt: string[];
  /** PostgreSQL array literals ('{id,id}') per document, as the service writes tag_ids / author_ids. */
  tagIds: string[];
  authorIds: string[];
  tagLinks: { documentId: string[]; tagId: string[] };
  authorLinks: { documentId: string[]; authorId: string[]; position: number[] };
  translations: { documentId: string[]; language: string[]; searchConfig: string[]; title: string[]; summary: string[]; body: string[] };
}

/** Share of documents with a translation into another corpus language. */
const TRANSLATED_SHARE = 0.1;

/** One batch of documents, from its own seed so the corpus does not depend on insert order. */
function generateBatch(seed: number, batch: number, count: number, vocabularies: Map<string, Vocabulary>, catalog: Catalog): DocumentBatch {
  const random = createRandom(mix(seed, 1000 + batch));
  const out: DocumentBatch = {
    id: [],
    title: [],
    summary: [],
    body: [],
    type: [],
    status: [],
    language: [],
    searchConfig: [],
    tagNames: [],
    viewCount: [],
    likeCount: [],
    publishedAt: [],
    createdAt: [],
    updatedAt: [],
    tagIds: [],
    authorIds: [],
    tagLinks: { documentId: [], tagId: [] },
    authorLinks: { documentId: [], authorId: [], position: [] },
    translations: { documentId: [], language: [], searchConfig: [], title: [], summary: [], body: [] },
  };
  const languageTable = LANGUAGES.map((spec) => [spec.code, spec.share] as const);
  for (let i = 0; i < count; i++) {
    // Random like gen_random_uuid(), but unique by construction: the last group is the document's number.
    const id = uuid(random).slice(0, 24) + (batch * 100_000 + i).toString(16).padStart(12, '0');
    const language = weighted(random, languageTable);
    const vocabulary = vocabularies.get(language) as Vocabulary;
    const type = weighted(random, TYPES);
    const status = weighted(random, STATUSES);
    const published = NOW - Math.floor(random() * 730 * DAY_MS);
    const created = published - Math.floor(random() * 30 * DAY_MS);
    const updated = Math.min(NOW, published + (random() < 0.3 ? Math.floor(random() * 90 * DAY_MS) : 0));
    // Heavy-tailed popularity: log-normal views, likes a few percent of views.
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const views = status === 'draft' ? 0 : Math.floor(Math.exp(5 + 1.6 * normal));
    const likes = Math.floor(views * random() * 0.08);

    const tagCount = weighted(random, [
      ['0', 0.1],
      ['1', 0.35],
      ['2', 0.3],
      ['3', 0.17],
      ['4', 0.08],
    ]);
    const tagIndexes = new Set<number>();
    while (tagIndexes.size < Number(tagCount)) tagIndexes.add(catalog.tagPopularity.sample(random));
    const tags = [...tagIndexes].map((index) => catalog.tags[index]);
    for (const tag of tags) {
      out.tagLinks.documentId.push(id);
      out.tagLinks.tagId.push(tag.id);
    }
    const pool = catalog.authorsByLanguage.get(language) as string[];
    const authorCount = random() < 0.85 ? 1 : random() < 0.87 ? 2 : 3;
    const authorIds = new Set<string>();
    // Some authors are prolific: square the uniform draw to skew towards the start of the list.
    while (authorIds.size < authorCount) authorIds.add(pool[Math.floor(random() * random() * pool.length)]);
    [...authorIds].forEach((authorId, index) => {
      out.authorLinks.documentId.push(id);
      out.authorLinks.authorId.push(authorId);
      out.authorLinks.position.push(index + 1);
    });

    out.id.push(id);
    out.title.push(titleText(random, vocabulary));
    out.summary.push(sentence(random, vocabulary, between(random, 10, 25)));
    out.body.push(bodyText(random, vocabulary, type));
    out.type.push(type);
    out.status.push(status);
    out.language.push(language);
    out.searchConfig.push(vocabulary.spec.searchConfig);
    // Sorted like the service does (code point order, ORDER BY name COLLATE "C" in reindex).
    out.tagNames.push(
      tags
        .map((tag) => tag.name)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .join(' '),
    );
    out.viewCount.push(views);
    out.likeCount.push(likes);
    out.publishedAt.push(status === 'draft' ? null : new Date(published).toISOString());
    out.createdAt.push(new Date(status === 'draft' ? published : created).toISOString());
    out.updatedAt.push(new Date(status === 'draft' ? published : updated).toISOString());
    out.tagIds.push(`{${tags.map((tag) => tag.id).sort().join(',')}}`);
    out.authorIds.push(`{${[...authorIds].join(',')}}`);
  }
  // Translations from their own stream, so adding them left the documents above unchanged.
  const translationRandom = createRandom(mix(seed, 500_000 + batch));
  for (let i = 0; i < count; i++) {
    if (translationRandom() >= TRANSLATED_SHARE) continue;
    const others = LANGUAGES.filter((spec) => spec.code !== out.language[i]);
    const vocabulary = vocabularies.get(others[Math.floor(translationRandom() * others.length)].code) as Vocabulary;
    out.translations.documentId.push(out.id[i]);
    out.translations.language.push(vocabulary.spec.code);
    out.translations.searchConfig.push(vocabulary.spec.searchConfig);
    out.translations.title.push(titleText(translationRandom, vocabulary));
    out.translations.summary.push(sentence(translationRandom, vocabulary, between(translationRandom, 10, 25)));
    out.translations.body.push(bodyText(translationRandom, vocabulary, out.type[i]));
  }
  return out;
}

/**
 * Seeds the corpus for one tenant and owner with set-based SQL: tags and authors in one statement
 * each, documents and their links in batches of `batchSize` rows passed as arrays and unnested
 * (one parameter per column), several batches in parallel. PostgreSQL computes search_vector.
 */
export async function seedSearchCorpus(
  databaseUrl: string,
  tenantId: string,
  ownerId: string,
  options: { documents: number; seed: number; connections: number },
): Promise<SeedingReport> {
  const started = performance.now();
  const pool = new Pool({ connectionString: databaseUrl, max: options.connections, options: '-c search_path=content,public' });
  try {
    const vocabularies = new Map(LANGUAGES.map((spec) => [spec.code as string, buildVocabulary(spec, options.seed)]));
    const catalog = buildCatalog(options.seed);
    await pool.query(
      `INSERT INTO tags (id, tenant_id, name, color) SELECT id, $1::uuid, name, color FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(id, name, color)`,
      [tenantId, catalog.tags.map((t) => t.id), catalog.tags.map((t) => t.name), catalog.tags.map((t) => t.color)],
    );
    await pool.query(
      `INSERT INTO authors (id, tenant_id, name, bio) SELECT id, $1::uuid, name, bio FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(id, name, bio)`,
      [tenantId, catalog.authors.map((a) => a.id), catalog.authors.map((a) => a.name), catalog.authors.map((a) => `Writes in ${a.language}.`)],
    );

    const batchSize = 1000;
    const batches = Math.ceil(options.documents / batchSize);
    const byLanguage: Record<string, number> = {};
    let documentTags = 0;
    let documentAuthors = 0;
    let translations = 0;
    let next = 0;
    const insertBatch = async (index: number) => {
      const batch = generateBatch(options.seed, index, Math.min(batchSize, options.documents - index * batchSize), vocabularies, catalog);
      for (const language of batch.language) byLanguage[language] = (byLanguage[language] ?? 0) + 1;
      documentTags += batch.tagLinks.documentId.length;
      documentAuthors += batch.authorLinks.documentId.length;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL synchronous_commit = off');
        await client.query(
          `INSERT INTO documents (id, tenant_id, owner_id, title, summary, body, type, status, language, search_config, tag_names,
                                  view_count, like_count, published_at, created_at, updated_at, tag_ids, author_ids)
           SELECT id, $1::uuid, $2::uuid, title, summary, body, type, status, language, search_config, tag_names,
                  view_count, like_count, published_at, created_at, updated_at, tag_ids::uuid[], author_ids::uuid[]
           FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::regconfig[],
                       $11::text[], $12::bigint[], $13::bigint[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
                       $17::text[], $18::text[])
             AS t(id, title, summary, body, type, status, language, search_config, tag_names, view_count, like_count,
                  published_at, created_at, updated_at, tag_ids, author_ids)`,
          [
            tenantId,
            ownerId,
            batch.id,
            batch.title,
            batch.summary,
            batch.body,
            batch.type,
            batch.status,
            batch.language,
            batch.searchConfig,
            batch.tagNames,
            batch.viewCount,
            batch.likeCount,
            batch.publishedAt,
            batch.createdAt,
            batch.updatedAt,
            batch.tagIds,
            batch.authorIds,
          ],
        );
        await client.query(
          `INSERT INTO document_translations (tenant_id, document_id, language, search_config, title, summary, body, created_by, updated_by)
           SELECT $1::uuid, document_id, language, search_config, title, summary, body, $2::uuid, $2::uuid
           FROM unnest($3::uuid[], $4::text[], $5::regconfig[], $6::text[], $7::text[], $8::text[])
             AS t(document_id, language, search_config, title, summary, body)`,
          [
            tenantId,
            ownerId,
            batch.translations.documentId,
            batch.translations.language,
            batch.translations.searchConfig,
            batch.translations.title,
            batch.translations.summary,
            batch.translations.body,
          ],
        );
        translations += batch.translations.documentId.length;
        await client.query(`INSERT INTO document_tags (document_id, tag_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`, [
          batch.tagLinks.documentId,
          batch.tagLinks.tagId,
        ]);
        await client.query(
          `INSERT INTO document_authors (document_id, author_id, position) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[])`,
          [batch.authorLinks.documentId, batch.authorLinks.authorId, batch.authorLinks.position],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    let lastReport = performance.now();
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (next < batches) {
          await insertBatch(next++);
          if (performance.now() - lastReport > 15_000) {
            lastReport = performance.now();
            console.log(`  seeded ${Math.min(next * batchSize, options.documents)} / ${options.documents} documents`);
          }
        }
      }),
    );
    const inserted = performance.now();
    await pool.query('VACUUM (ANALYZE) documents, document_translations, document_search_entries, document_tags, document_authors, tags, authors');
    const done = performance.now();
    const size = await pool.query<{ bytes: string; entries: string }>(
      `SELECT pg_total_relation_size('content.documents') AS bytes, pg_total_relation_size('content.document_search_entries') AS entries`,
    );
    return {
      documents: options.documents,
      tags: catalog.tags.length,
      authors: catalog.authors.length,
      documentTags,
      documentAuthors,
      translations,
      insertMs: inserted - started,
      vacuumAnalyzeMs: done - inserted,
      totalMs: done - started,
      documentsPerSecond: options.documents / ((inserted - started) / 1000),
      documentsTableBytes: Number(size.rows[0].bytes),
      searchEntriesBytes: Number(size.rows[0].entries),
      byLanguage,
    };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Queries and load
// ---------------------------------------------------------------------------------------------

const HIT_FIELDS = 'edges { node { rank highlight { title body } document { id title language } } } totalCount totalCountRelation';
const SEARCH = `query Search($input: SearchDocumentsInput!) { searchDocuments(input: $input) { ${HIT_FIELDS} fuzzy } }`;
const SEARCH_WITHOUT_HIGHLIGHTS = `query SearchWithoutHighlights($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) { edges { node { rank document { id title language } } } totalCount totalCountRelation fuzzy }
}`;
const SEARCH_WITH_FACETS = `query SearchWithFacets($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) {
    ${HIT_FIELDS} fuzzy
    facets { languages { value count } types { value count } tags { tag { id name } count } authors { author { id name } count } }
  }
}`;

export interface QueryDefinition {
  name: string;
  description: string;
  query: string;
  input: Record<string, unknown>;
  expectFuzzy: boolean;
}

/** The measured queries (exported so plans can be captured for exactly these inputs). */
export const SEARCH_QUERIES: QueryDefinition[] = [
  {
    name: 'one word',
    description: 'en, a moderately common word',
    query: SEARCH,
    input: { query: 'harbor', first: 20 },
    expectFuzzy: false,
  },
  {
    name: 'one word, no highlights',
    description: 'the same, selecting hits without their highlights (no ts_headline)',
    query: SEARCH_WITHOUT_HIGHLIGHTS,
    input: { query: 'harbor', first: 20 },
    expectFuzzy: false,
  },
  {
    name: 'three words',
    description: 'ru, three words (AND)',
    query: SEARCH,
    input: { query: 'старый дом река', first: 20 },
    expectFuzzy: false,
  },
  {
    name: 'two filters + facets',
    description: 'ru word, languages [ru] + types [POEM, PROSE], all facets',
    query: SEARCH_WITH_FACETS,
    input: { query: 'ночь', filter: { languages: ['ru'], types: ['POEM', 'PROSE'] }, first: 20 },
    expectFuzzy: false,
  },
  {
    name: 'typo (fuzzy)',
    description: 'en title word misspelled, full text finds nothing, trigram path',
    query: SEARCH,
    input: { query: 'mountian', first: 20 },
    expectFuzzy: true,
  },
];

interface SearchResponse {
  searchDocuments: { totalCount: number; totalCountRelation: 'EQ' | 'GTE'; fuzzy: boolean; edges: { node: { document: { id: string } } }[] };
}

/**
 * The content service caches results in Redis per tenant and exact input, so the same request
 * repeated measures a cache hit. An uncached request gets a unique tail of whitespace (spaces,
 * tabs, newlines: request n in base 3) after the query: websearch_to_tsquery and pg_trgm ignore
 * whitespace, so the SQL finds and ranks exactly the same documents, but no cache key is shared.
 */
let uncachedSequence = 0;
function uncachedInput(input: Record<string, unknown>): Record<string, unknown> {
  const tail = (uncachedSequence++).toString(3).padStart(13, '0').replace(/[012]/g, (digit) => ' \t\n'[Number(digit)]);
  return { ...input, query: `${input.query as string}${tail}` };
}

type CacheMode = 'uncached' | 'cached';
const requestInput = (definition: QueryDefinition, mode: CacheMode) =>
  mode === 'uncached' ? uncachedInput(definition.input) : definition.input;
/** The load generator's body for each request (uncached: a new whitespace tail every time). */
const requestBody = (definition: QueryDefinition, mode: CacheMode) => () =>
  JSON.stringify({ query: definition.query, variables: { input: requestInput(definition, mode) } });

async function verify(
  url: string,
  token: string,
  definition: QueryDefinition,
  input: Record<string, unknown> = definition.input,
): Promise<SearchResponse['searchDocuments']> {
  const result = await graphql<SearchResponse>(url, definition.query, { token, variables: { input } });
  const data = result.data?.searchDocuments;
  if (result.status !== 200 || result.errors?.length || !data?.edges.length) {
    throw new Error(`search "${definition.name}" against ${url} returned no results or errors (${result.status}): ${result.text.slice(0, 1500)}`);
  }
  if (data.fuzzy !== definition.expectFuzzy) {
    throw new Error(`search "${definition.name}" answered with fuzzy=${data.fuzzy}, expected ${definition.expectFuzzy}`);
  }
  return data;
}

/** One-client requests measured per query and target (after 5 unmeasured). */
const SERIAL_REQUESTS = 30;

/**
 * The latencies of `count` requests one after another (no queueing), after a few unmeasured
 * ones; failed requests are counted, not thrown (verification before the runs is strict).
 */
async function serialLatency(
  url: string,
  token: string,
  definition: QueryDefinition,
  mode: CacheMode,
  count: number,
): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < count + 5; i++) {
    const input = requestInput(definition, mode);
    const started = performance.now();
    const ok = await verify(url, token, definition, input).then(
      () => true,
      () => false,
    );
    if (!ok) errors++;
    else if (i >= 5) latencies.push(performance.now() - started);
  }
  return { latencies, errors };
}

interface Load {
  result: autocannon.Result;
  latencies: number[];
}

function load(url: string, token: string, body: () => string, durationSeconds: number, connections: number): Promise<Load> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        connections,
        duration: durationSeconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: body(),
        requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
        // GraphQL answers errors with 200: a response counts only with hits and without errors.
        verifyBody: (response) => typeof response === 'string' && !response.includes('"errors":') && response.includes('"edges":[{'),
      },
      (error, result) => (error ? reject(error) : resolve({ result, latencies })),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

/**
 * Load per query and target before the measured runs. The engine's JVM takes minutes of load to
 * compile its search paths: 3 s each left its CPU per request at 2-3x what it settles at.
 */
const PLATFORM_WARMUP_SECONDS = 10;

/**
 * Seeds the corpus into a fresh platform's database for a new tenant, then measures the four
 * queries at `connections` concurrent clients through the gateway and straight against the
 * content subgraph, with the same token: every request a cache miss (the PostgreSQL search),
 * then the same request repeated (served from the content service's Redis result cache).
 */
export async function searchLatency(options: SearchLatencyOptions): Promise<SearchLatencyResult> {
  const seed = options.seed ?? 20_250_101;
  const scaleDocuments = options.scaleDocuments ?? Number(process.env.BENCH_SEARCH_SCALE_DOCUMENTS ?? 0);
  const warmupSeconds = options.warmupSeconds ?? 2;
  const engine = options.engine ?? (process.env.BENCH_SEARCH_ENGINE === 'postgres' ? 'postgres' : 'opensearch');
  const searchNode: OpenSearchNode | undefined = engine === 'opensearch' ? await startOpenSearchNode({ heapMb: 1024 }) : undefined;
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    contentEnv: {
      ...(options.contentPoolMax && { DATABASE_POOL_MAX: String(options.contentPoolMax) }),
      ...(searchNode && { SEARCH_ENGINE_URL: searchNode.url }),
    },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000', QUERY_MAX_COST: '100000' },
  });
  try {
    const account = { email: `bench-search-${Date.now()}@example.com`, password: 'a long bench passphrase 1' };
    const { register } = await graphqlData<{ register: { user: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`,
      { variables: { input: { ...account, displayName: 'Bench' } } },
    );
    // Signed in again whenever a token is needed: seeding the scaling row outlasts an access token (an hour at most).
    const signIn = async () => {
      const { login } = await graphqlData<{ login: { accessToken: string } }>(
        platform.gatewayUrl,
        `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`,
        { variables: { input: account } },
      );
      return login.accessToken;
    };
    const createTenant = async (suffix: string) => {
      const slug = `bench-${suffix}-${Date.now().toString(36)}`;
      const { createTenant: created } = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
        platform.gatewayUrl,
        `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
        { token: await signIn(), variables: { input: { name: `Bench ${slug}`, slug } } },
      );
      return created.tenant.id;
    };
    // A fresh token acting in the tenant (as its admin), minted after seeding so it outlives the runs.
    const tenantToken = async (tenantId: string) => {
      const { switchTenant } = await graphqlData<{ switchTenant: { accessToken: string } }>(
        platform.gatewayUrl,
        `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
        { token: await signIn(), variables: { input: { tenantId } } },
      );
      return switchTenant.accessToken;
    };
    const tenantId = await createTenant('search');

    console.log(`\nSeeding ${options.documents} documents...`);
    const seeding = await seedSearchCorpus(platform.databaseUrl, tenantId, register.user.id, {
      documents: options.documents,
      seed,
      connections: options.seedConnections ?? 2,
    });

    const indexing = searchNode ? await waitForIndexing(platform.databaseUrl, seeding.documents) : undefined;
    const token = await tenantToken(tenantId);
    const targets: { target: SearchLatencyRun['target']; url: string; contentPid: number }[] = [
      { target: 'gateway', url: platform.gatewayUrl, contentPid: platform.content.pid },
      { target: 'direct', url: platform.contentUrl, contentPid: platform.content.pid },
    ];
    if (searchNode) {
      const postgresContent = await platform.startServiceInstance('content', { SEARCH_ENGINE_URL: '' });
      targets.push({ target: 'direct-postgres', url: `${postgresContent.url}/graphql`, contentPid: postgresContent.pid });
    }
    const baselineRoot = options.baselineRoot ?? process.env.BENCH_SEARCH_BASELINE_ROOT;
    if (baselineRoot) {
      const baselineEnv = { ...(options.contentPoolMax && { DATABASE_POOL_MAX: String(options.contentPoolMax) }), ...(searchNode && { SEARCH_ENGINE_URL: searchNode.url }) };
      const baselineContent = await platform.startServiceInstance('content', baselineEnv, undefined, baselineRoot);
      targets.push({ target: 'direct-baseline', url: `${baselineContent.url}/graphql`, contentPid: baselineContent.pid });
    }
    const databasePort = new URL(platform.databaseUrl).port || '5432';
    // CPU time so far by process, in µs; the postmaster first, so backends that ended still count.
    const readCpu = (contentPid: number): Record<string, number> => {
      const load = process.cpuUsage();
      return {
        gateway: cpuMicrosecondsIfRunning(platform.gateway.pid),
        content: cpuMicrosecondsIfRunning(contentPid),
        ...(searchNode && { engine: cpuMicrosecondsIfRunning(searchNode.pid) }),
        postgresql: postgresPids(databasePort).reduce((sum, pid, index) => sum + cpuMicrosecondsIfRunning(pid, index === 0), 0),
        load: load.user + load.system,
      };
    };

    // Every query must find something, the same through both paths, and an uncached variant
    // must find exactly what the plain query finds.
    const queries: SearchQueryCase[] = [];
    for (const definition of SEARCH_QUERIES) {
      const [viaGateway, direct, variant] = await Promise.all([
        verify(platform.gatewayUrl, token, definition),
        verify(platform.contentUrl, token, definition),
        verify(platform.contentUrl, token, definition, uncachedInput(definition.input)),
      ]);
      const ids = (result: SearchResponse['searchDocuments']) => result.edges.map((edge) => edge.node.document.id).join();
      if (viaGateway.totalCount !== direct.totalCount || ids(viaGateway) !== ids(direct)) {
        throw new Error(`search "${definition.name}": gateway and subgraph disagree (${viaGateway.totalCount} vs ${direct.totalCount})`);
      }
      if (variant.totalCount !== direct.totalCount || ids(variant) !== ids(direct)) {
        throw new Error(`search "${definition.name}": the uncached variant finds other documents (${variant.totalCount} vs ${direct.totalCount})`);
      }
      // The PostgreSQL baseline ranks its own way, and a baseline commit may too; they must find something.
      for (const { target, url } of targets.filter(({ target }) => target === 'direct-postgres' || target === 'direct-baseline')) await verify(url, token, definition).catch((error: Error) => {
        throw new Error(`${target}: ${error.message}`);
      });
      queries.push({
        name: definition.name,
        description: definition.description,
        input: definition.input,
        totalCount: direct.totalCount,
        totalCountRelation: direct.totalCountRelation,
        fuzzy: direct.fuzzy,
      });
    }

    type Target = (typeof targets)[number];
    /** One stretch of load on a target: its one-client requests, then `seconds` at `connections` clients, with the CPU it cost. */
    const measureSlice = async (definition: QueryDefinition, mode: CacheMode, { url, contentPid }: Target, runToken: string, seconds: number, serialCount: number) => {
      const serial = await serialLatency(url, runToken, definition, mode, serialCount);
      const cpuBefore = readCpu(contentPid);
      const { result, latencies } = await load(url, runToken, requestBody(definition, mode), seconds, options.connections);
      const cpuAfter = readCpu(contentPid);
      const cpuMs = Object.fromEntries(Object.entries(cpuAfter).map(([name, after]) => [name, (after - cpuBefore[name]) / 1000]));
      return { seconds, result, latencies, serial, cpuMs };
    };
    type Slice = Awaited<ReturnType<typeof measureSlice>>;
    const summarize = (definition: QueryDefinition, mode: CacheMode, target: SearchLatencyRun['target'], slices: Slice[]): SearchLatencyRun => {
      const sum = (value: (slice: Slice) => number) => slices.reduce((total, slice) => total + value(slice), 0);
      const latencies = slices.flatMap((slice) => slice.latencies).sort((a, b) => a - b);
      const serial = slices.flatMap((slice) => slice.serial.latencies).sort((a, b) => a - b);
      const requests = sum((slice) => slice.result.requests.total);
      return {
        query: definition.name,
        target,
        cache: mode,
        requests,
        requestsPerSecond: requests / sum((slice) => slice.seconds),
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies.at(-1) ?? Number.NaN,
        errors: sum((slice) => slice.result.errors),
        non2xx: sum((slice) => slice.result.non2xx),
        graphqlErrors: sum((slice) => slice.result.mismatches),
        serialP50Ms: percentile(serial, 50),
        serialErrors: sum((slice) => slice.serial.errors),
        cpuMsPerRequest: Object.fromEntries(Object.keys(slices[0].cpuMs).map((name) => [name, sum((slice) => slice.cpuMs[name]) / Math.max(requests, 1)])),
      };
    };
    const warm = async (definition: QueryDefinition, mode: CacheMode, { url }: Target, runToken: string) => {
      if (warmupSeconds > 0) await load(url, runToken, requestBody(definition, mode), warmupSeconds, options.connections);
    };
    const measure = async (definition: QueryDefinition, mode: CacheMode, target: Target, runToken: string) => {
      await warm(definition, mode, target, runToken);
      return summarize(definition, mode, target.target, [await measureSlice(definition, mode, target, runToken, options.durationSeconds, SERIAL_REQUESTS)]);
    };
    /**
     * A change against its baseline (`direct` and `direct-baseline`) in alternating rounds, each a
     * share of the duration and of the one-client requests: measured one after the other, the
     * engine's CPU per request drifted by up to 1.2x between two targets sending it the same request.
     */
    const abRounds = Number(process.env.BENCH_SEARCH_AB_ROUNDS ?? 4);
    const measureInterleaved = async (definition: QueryDefinition, mode: CacheMode, pair: Target[]) => {
      for (const target of pair) await warm(definition, mode, target, token);
      const slices = new Map<Target, Slice[]>(pair.map((target) => [target, []]));
      for (let round = 0; round < abRounds; round++) {
        for (const target of round % 2 ? [...pair].reverse() : pair) {
          const slice = await measureSlice(definition, mode, target, token, options.durationSeconds / abRounds, Math.ceil(SERIAL_REQUESTS / abRounds));
          slices.get(target)?.push(slice);
        }
      }
      return pair.map((target) => summarize(definition, mode, target.target, slices.get(target) ?? []));
    };

    // The services and the engine are long-running and answer from compiled code: every query runs
    // on every target before anything is measured, so the first rows do not pay the JIT warm-up
    // (cold, the first row's one-client p50 was 54.6 ms against about 20 ms warm).
    for (const definition of SEARCH_QUERIES) {
      for (const { url } of targets) await load(url, token, requestBody(definition, 'uncached'), PLATFORM_WARMUP_SECONDS, options.connections);
    }

    const runs: SearchLatencyRun[] = [];
    for (const mode of ['uncached', 'cached'] as const) {
      for (const definition of SEARCH_QUERIES) {
        const pair = targets.filter(({ target }) => target === 'direct' || target === 'direct-baseline');
        for (const target of targets) {
          if (pair.length === 2 && pair.includes(target)) {
            if (target === pair[0]) runs.push(...(await measureInterleaved(definition, mode, pair)));
          } else runs.push(await measure(definition, mode, target, token));
        }
      }
    }

    const layoutBuild = searchNode ? await measureLayoutBuild(searchNode.url, platform.databaseUrl, seeding.documents) : undefined;

    let scale: SearchScaleResult | undefined;
    if (scaleDocuments) {
      // A tenant of its own (another seed: other ids), so the main tenant's rows are neighbours, not matches.
      const scaleTenantId = await createTenant('scale');
      console.log(`\nSeeding ${scaleDocuments} documents for the scaling row...`);
      const scaleSeeding = await seedSearchCorpus(platform.databaseUrl, scaleTenantId, register.user.id, {
        documents: scaleDocuments,
        seed: seed + 1,
        connections: options.seedConnections ?? 2,
      });
      if (searchNode) await waitForIndexing(platform.databaseUrl, scaleDocuments);
      const scaleToken = await tenantToken(scaleTenantId);
      const scaleQueries: SearchQueryCase[] = [];
      const scaleRuns: SearchLatencyRun[] = [];
      for (const definition of SEARCH_QUERIES) {
        const found = await verify(platform.gatewayUrl, scaleToken, definition);
        scaleQueries.push({
          name: definition.name,
          description: definition.description,
          input: definition.input,
          totalCount: found.totalCount,
          totalCountRelation: found.totalCountRelation,
          fuzzy: found.fuzzy,
        });
        scaleRuns.push(await measure(definition, 'uncached', targets[0], scaleToken));
      }
      scale = { seeding: scaleSeeding, queries: scaleQueries, runs: scaleRuns };
      console.log(`\nSearch scaling row: ${scaleDocuments} documents in one tenant, uncached, through the gateway, ${options.connections} connections`);
      console.table(
        scaleRuns.map((run, index) => ({
          query: run.query,
          totalCount: `${scaleQueries[index].totalCountRelation === 'GTE' ? '>= ' : ''}${scaleQueries[index].totalCount}`,
          requestsPerSecond: Math.round(run.requestsPerSecond),
          p50Ms: run.p50Ms.toFixed(1),
          p95Ms: run.p95Ms.toFixed(1),
          p99Ms: run.p99Ms.toFixed(1),
          serialP50Ms: run.serialP50Ms.toFixed(1),
          errors: run.errors + run.non2xx + run.graphqlErrors + run.serialErrors,
        })),
      );
    }
    return {
      seeding,
      indexing,
      layoutBuild,
      engine,
      queries,
      runs,
      scale,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      contentPoolMax: options.contentPoolMax,
    };
  } catch (error) {
    // The services log at warn: their last lines usually say what went wrong.
    const tail = (service: { name: string; output(): string }) => `--- ${service.name} ---\n${service.output().slice(-4000)}`;
    console.error(`search benchmark failed; service output:\n${tail(platform.content)}\n${tail(platform.gateway)}`);
    throw error;
  } finally {
    await platform.stop();
    await searchNode?.stop();
  }
}

/** The content service's default alias (SEARCH_ENGINE_INDEX). */
const ENGINE_ALIAS = 'multipult-content-documents';

/** Plays an upgrade to the service's layout (LayoutBuildReport); the alias is back on its index when it resolves. */
async function measureLayoutBuild(engineUrl: string, databaseUrl: string, documents: number): Promise<LayoutBuildReport> {
  const client = new Client({ node: engineUrl });
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  const aliasTarget = async () => Object.keys((await client.indices.getAlias({ name: ENGINE_ALIAS })).body as Record<string, unknown>)[0];
  try {
    const serving = await aliasTarget();
    const version = Number(/-v(\d+)$/.exec(serving)?.[1]);
    const previous = `${ENGINE_ALIAS}-v${version - 1}`;
    await client.indices.create({ index: previous });
    const started = performance.now();
    await client.indices.updateAliases({ body: { actions: [{ remove: { index: serving, alias: ENGINE_ALIAS } }, { add: { index: previous, alias: ENGINE_ALIAS } }] } });
    while ((await aliasTarget()) !== serving) {
      if (performance.now() - started > 30 * 60_000) throw new Error('the service did not build its index layout within 30 minutes');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const ms = performance.now() - started;
    const { rows } = await pool.query<{ builds: number }>('SELECT count(*)::int AS builds FROM content.search_index_builds');
    const left = (await client.indices.exists({ index: previous })).body;
    if (rows[0].builds || left) throw new Error(`the layout build left ${rows[0].builds} builds registered and the previous index ${left ? 'in place' : 'dropped'}`);
    console.log(`The service built its index layout over ${documents} documents and moved the alias in ${(ms / 1000).toFixed(1)} s`);
    return { documents, ms, documentsPerSecond: documents / (ms / 1000) };
  } finally {
    await pool.end();
    await client.close();
  }
}

/** Waits until the indexer has drained the change queue the seeding filled (every document in the engine). */
async function waitForIndexing(databaseUrl: string, documents: number): Promise<IndexingReport> {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  const started = performance.now();
  try {
    for (;;) {
      const { rows } = await pool.query<{ queued: number }>('SELECT count(*)::int AS queued FROM content.search_index_changes');
      if (rows[0].queued === 0) break;
      if (performance.now() - started > 30 * 60_000) throw new Error(`the search indexer left ${rows[0].queued} changes queued after 30 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const ms = performance.now() - started;
    console.log(`The search engine's index caught up with ${documents} seeded documents ${(ms / 1000).toFixed(1)} s after the seeding ended`);
    return { documents, ms, documentsPerSecond: documents / (ms / 1000) };
  } finally {
    await pool.end();
  }
}
