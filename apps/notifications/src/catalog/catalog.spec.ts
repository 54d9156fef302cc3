import { randomUUID } from 'node:crypto';
import { ApprovalExpiring, ApprovalRequested, EventEnvelope } from '@multipult/events';
import { SUPPORTED_LOCALES } from '@multipult/graphql';
import { NOTIFICATION_KINDS, kindOf } from './kinds';
import { Links } from './notification-kind';
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

  describe('approvals', () => {
    const links: Links = {
      to: (path, query) => `https://app.example${path}${query ? `?${new URLSearchParams(query)}` : ''}`,
      withEmailedToken: () => {
        throw new Error('approvals carry no emailed token');
      },
    };
    const runId = randomUUID();
    const toolCallId = randomUUID();
    const userId = randomUUID();
    const tenantId = randomUUID();
    const envelope = (type: string, risk: 'medium' | 'high'): EventEnvelope => ({
      id: randomUUID(),
      type,
      version: 1,
      occurredAt: '2026-12-01T09:59:00.000Z',
      tenantId,
      actorId: null,
      traceparent: null,
      requestId: null,
      aggregateId: runId,
      payload: {
        toolCallId,
        runId,
        userId,
        agentName: 'Scribe',
        tool: 'write_file',
        risk,
        summary: 'write_file {"path":"a.md","content":"x"}',
        expiresAt: '2026-12-01T10:00:00.000Z',
      },
    });
    const resolve = (type: string, eventType: string, risk: 'medium' | 'high' = 'medium') => {
      const kind = kindOf(type);
      if (!kind) throw new Error(`no kind ${type}`);
      const event = envelope(eventType, risk);
      const params: Record<string, string> = { ...kind.params(event, links), recipientName: 'Ann', actorName: '' };
      return { kind, addressees: kind.addressees(event), params };
    };

    it.each([
      ['approval_requested', ApprovalRequested],
      ['approval_expiring', ApprovalExpiring],
    ])('%s comes from its event, reaches the member asked to decide in the tenant at once, and links to the call in its run', (type, contract) => {
      const { kind, addressees, params } = resolve(type, contract.type);
      expect(kind.contract).toBe(contract);
      expect(kind.urgent).toBe(true);
      expect(kind.channels).toEqual(['IN_APP', 'EMAIL']);
      expect(addressees).toEqual([{ userId, tenantId }]);
      expect(params).toMatchObject({ agentName: 'Scribe', tool: 'write_file', risk: 'medium', expiresAt: '2026-12-01T10:00:00.000Z' });
      expect(params.link).toBe(`https://app.example/agents/runs/${runId}?toolCall=${toolCallId}`);
    });

    it('asks for a decision in English and Russian, naming the agent, tool, risk, call and deadline', () => {
      const { params } = resolve('approval_requested', ApprovalRequested.type);
      expect(renderer.inApp('approval_requested', 'en', params)).toEqual({
        title: 'Scribe asks to run write_file',
        body: 'Scribe asks to run a medium-risk call: write_file {"path":"a.md","content":"x"}. Approve or reject it by December 1, 2026 at 10:00 AM UTC.',
      });
      const english = renderer.email('approval_requested', 'en', params);
      expect(english.subject).toBe('Approval needed: Scribe asks to run write_file');
      expect(english.text).toContain('write_file {"path":"a.md","content":"x"}');
      expect(english.html).toContain('write_file {&quot;path&quot;:&quot;a.md&quot;,&quot;content&quot;:&quot;x&quot;}');
      expect(english.text).toContain(`Review the call: https://app.example/agents/runs/${runId}?toolCall=${toolCallId}`);

      expect(renderer.inApp('approval_requested', 'ru', params).title).toBe('Агент Scribe просит разрешения на write_file');
      const russian = renderer.email('approval_requested', 'ru', params);
      expect(russian.subject).toBe('Нужно ваше решение: агент Scribe хочет выполнить write_file');
      expect(russian.text).toContain('Агент Scribe хочет выполнить write_file — действие со средним риском:');
      expect(russian.text).toMatch(/Одобрите или отклоните его до 1 декабря 2026 г\..* 10:00 UTC\./);
      expect(russian.text).toContain(`Рассмотреть запрос: https://app.example/agents/runs/${runId}?toolCall=${toolCallId}`);
    });

    it('warns before the deadline in English and Russian, wording a high risk in each language', () => {
      const { params } = resolve('approval_expiring', ApprovalExpiring.type, 'high');
      expect(params.risk).toBe('high');
      const english = renderer.email('approval_expiring', 'en', params);
      expect(english.subject).toBe('Reminder: Scribe is still waiting for your approval');
      expect(english.text).toContain('The agent Scribe is still waiting for your decision on write_file, a high-risk call:');
      expect(english.text).toContain('If nobody approves it by December 1, 2026 at 10:00 AM UTC, the call is rejected.');
      expect(renderer.inApp('approval_expiring', 'en', params).title).toBe('Decide soon: Scribe is waiting to run write_file');

      const russian = renderer.email('approval_expiring', 'ru', params);
      expect(russian.subject).toBe('Напоминание: агент Scribe всё ещё ждёт вашего решения');
      expect(russian.text).toContain('Агент Scribe всё ещё ждёт вашего решения по write_file — действию с высоким риском:');
      expect(russian.text).toMatch(/Если никто не одобрит его до 1 декабря 2026 г\..* 10:00 UTC, вызов будет отклонён\./);
      expect(renderer.inApp('approval_expiring', 'ru', params)).toEqual({
        title: 'Решите скорее: агент Scribe ждёт разрешения на write_file',
        body: expect.stringContaining('Действие с высоким риском write_file {"path":"a.md","content":"x"} будет отклонено 1 декабря 2026'),
      });
    });
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
