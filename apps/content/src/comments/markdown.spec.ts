import { renderMarkdown } from './markdown';

// Vectors from the OWASP XSS Filter Evasion Cheat Sheet, in the forms a comment author could send.
const OWASP_VECTORS = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>',
  '<IMG SRC="javascript:alert(\'XSS\');">',
  '<IMG SRC=javascript:alert(&quot;XSS&quot;)>',
  '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
  '<IMG SRC=# onmouseover="alert(\'xxs\')">',
  '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
  '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',
  '<IMG SRC="jav&#x09;ascript:alert(\'XSS\');">',
  '<BODY ONLOAD=alert(\'XSS\')>',
  '<svg/onload=alert(\'XSS\')>',
  '<iframe src=javascript:alert(\'XSS\')></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![x](javascript:alert(1))',
  '[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))',
  '<div style="background-image: url(javascript:alert(\'XSS\'))">',
  '<STYLE>@import\'http://xss.rocks/xss.css\';</STYLE>',
  '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
  '<TABLE BACKGROUND="javascript:alert(\'XSS\')">',
  '<object data="javascript:alert(1)">',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '"><script>alert(document.cookie)</script>',
];

const ALLOWED_TAGS = ['p', 'br', 'em', 'strong', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'hr'];

describe('renderMarkdown', () => {
  it('renders Markdown', () => {
    expect(renderMarkdown('**bold** and _em_ with [a link](https://example.com)')).toBe(
      '<p><strong>bold</strong> and <em>em</em> with <a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">a link</a></p>\n',
    );
  });

  it.each(OWASP_VECTORS)('neutralizes %s', (vector) => {
    // Every live tag must be allowlisted, with only safe attributes and URL schemes; the vector may
    // survive as escaped text, which a browser shows and never runs.
    for (const [, tag, attributes] of renderMarkdown(vector).matchAll(/<\/?([a-z0-9]+)([^>]*)>/gi)) {
      expect(ALLOWED_TAGS).toContain(tag.toLowerCase());
      for (const [, name, value] of attributes.matchAll(/([a-z-]+)="([^"]*)"/gi)) {
        expect(['href', 'title', 'rel', 'target']).toContain(name.toLowerCase());
        if (name.toLowerCase() === 'href') expect(value).toMatch(/^(https?:|mailto:)/);
      }
      expect(attributes.replace(/([a-z-]+)="[^"]*"/gi, '').trim()).toBe('');
    }
  });
});
