import type { RenderDocument } from './render';

/** A 24×24 PNG (two-colour checkerboard), inline so previews never fetch anything. */
export const SAMPLE_IMAGE_DATA_URI =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAIAAABvFaqvAAAAKklEQVR4nGP4WSxGEKkmvyaIGEYNGjVo1CC8BhGjiBjLRg0aNWjUILwIAPm2U85SHR0gAAAAAElFTkSuQmCC';

export const SAMPLE_SENTENCES = {
  en: 'The quick brown fox jumps over the lazy dog.',
  ru: 'Съешь же ещё этих мягких французских булок, да выпей чаю.',
  tt: 'Әниемнең өендә җылы, һәр көн күңелле үтә. Ә Ө Ү Җ Ң Һ',
} as const;

/** For template previews: every Markdown feature the renderer supports, in English, Russian and Tatar. */
export const SAMPLE_DOCUMENT: RenderDocument = {
  id: 'sample',
  title: 'Sample document · Пример документа · Үрнәк документ',
  summary: 'Shows how every kind of content looks with this template.',
  language: 'en',
  author: 'Multipult',
  updatedAt: new Date('2026-01-15T09:30:00Z'),
  body: `# Heading 1 · Заголовок · Башлам

${SAMPLE_SENTENCES.en} **Bold**, *italic*, ***both***, ~~struck~~ and \`inline code\`.
A [link to the web](https://example.com/docs) and a line
break.

## Heading 2 — по-русски

${SAMPLE_SENTENCES.ru} **Жирный**, *курсив*, \`код\`.

### Heading 3 — татарча

${SAMPLE_SENTENCES.tt} **Калын**, *курсив*, \`код\`.

#### Heading 4

##### Heading 5

###### Heading 6

> A block quote. Цитата. Өземтә.
>
> > Nested quote.

- Unordered item
- Пункт списка
  - Nested item · Эчке пункт
    - Third level
- [x] Done task
- [ ] Open task

1. First · Первый · Беренче
2. Second · Второй · Икенче
   1. Nested numbered

\`\`\`ts
function greet(name: string): string {
  return \`Hello, \${name}! Привет! Сәлам!\`;
}
\`\`\`

| Language | Greeting | Notes |
| --- | :---: | ---: |
| English | Hello | A longer cell that wraps onto more than one line to show wrapping |
| Русский | Привет | Ячейка |
| Татарча | Сәлам | Күзәнәк |

---

![Checkerboard image](${SAMPLE_IMAGE_DATA_URI})

<div>Raw HTML is shown as text, not interpreted.</div>
`,
};
