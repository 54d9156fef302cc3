import { SUPPORTED_LOCALES } from '@multipult/graphql';
import { NOTIFICATION_KINDS } from './kinds';
import { TEMPLATES, TemplateRenderer } from './template-renderer';

describe('notification catalog', () => {
  const renderer = new TemplateRenderer();

  it.each(SUPPORTED_LOCALES)('has a template for every type in %s', (locale) => {
    const missing = NOTIFICATION_KINDS.map((kind) => kind.type).filter((type) => !TEMPLATES[locale].types[type]);
    expect(missing).toEqual([]);
  });

  it('names types uniquely and makes every critical type urgent', () => {
    const types = NOTIFICATION_KINDS.map((kind) => kind.type);
    expect(new Set(types).size).toBe(types.length);
    expect(NOTIFICATION_KINDS.filter((kind) => kind.critical && !kind.urgent)).toEqual([]);
  });

  it('escapes parameters in HTML but not in the text part, and links the action', () => {
    const email = renderer.email('mention', 'en', {
      actorName: '<b>Eve</b> & co',
      recipientName: 'Ann',
      link: 'https://app.example/documents/1?comment=2',
    });
    expect(email.subject).toBe('<b>Eve</b> & co mentioned you in a comment');
    expect(email.text).toContain('<b>Eve</b> & co mentioned you in a comment.');
    expect(email.text).toContain('Open the comment: https://app.example/documents/1?comment=2');
    expect(email.html).toContain('&lt;b&gt;Eve&lt;/b&gt; &amp; co mentioned you');
    expect(email.html).not.toContain('<b>Eve</b>');
    expect(email.html).toContain('href="https://app.example/documents/1?comment&#x3D;2"');
  });

  it('renders in Russian with localized dates', () => {
    const email = renderer.email('password_reset', 'ru', { link: 'https://x/reset', expiresAt: '2026-12-01T10:00:00.000Z' });
    expect(email.subject).toBe('Сброс пароля Multipult');
    expect(email.text).toMatch(/Ссылка действует до 1 декабря 2026 г\..* 10:00 UTC\./);
  });

  it('names an actor it has not recorded yet generically rather than leaving a blank', () => {
    expect(renderer.inApp('mention', 'en', { actorName: '' }).title).toBe('Someone mentioned you');
    expect(renderer.inApp('mention', 'ru', { actorName: '' }).title).toBe('Кто-то упомянул(а) вас');
    expect(renderer.inApp('mention', 'en', { actorName: 'Eve' }).title).toBe('Eve mentioned you');
  });

  it('renders a digest listing every item', () => {
    const email = renderer.digest('en', 'Ann', [
      { subject: 'Bob mentioned you in a comment', link: 'https://x/1' },
      { subject: 'Cy replied to your comment', link: null },
    ]);
    expect(email.subject).toBe('Your Multipult digest: 2 new notifications');
    expect(email.text).toContain('- Bob mentioned you in a comment: https://x/1');
    expect(email.html).toContain('<a href="https://x/1">Bob mentioned you in a comment</a>');
    expect(email.html).toContain('<li style="margin-bottom:8px">Cy replied to your comment</li>');
  });
});
