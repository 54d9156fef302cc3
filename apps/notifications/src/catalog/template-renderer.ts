import { Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { Locale } from '@multipult/graphql';
import { en, enDigest, enLayout } from './templates/en';
import { ru, ruDigest, ruLayout } from './templates/ru';
import { DigestTemplate, LayoutText, NotificationTemplate, TemplateSet } from './templates/template';

export const TEMPLATES: Record<Locale, { types: TemplateSet; digest: DigestTemplate; layout: LayoutText }> = {
  en: { types: en, digest: enDigest, layout: enLayout },
  ru: { types: ru, digest: ruDigest, layout: ruLayout },
};

export interface RenderedInApp {
  title: string;
  body: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface DigestItem {
  subject: string;
  link: string | null;
}

const LAYOUT = `<!doctype html>
<html lang="{{locale}}"><head><meta charset="utf-8"><title>{{subject}}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1d2433">
<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px">
<tr><td style="padding:24px">
{{#each paragraphs}}<p style="margin:0 0 16px;line-height:1.5">{{this}}</p>
{{/each}}{{#if items}}<ul style="padding-left:20px">{{#each items}}<li style="margin-bottom:8px">{{#if link}}<a href="{{link}}">{{subject}}</a>{{else}}{{subject}}{{/if}}</li>{{/each}}</ul>
{{/if}}{{#if action}}<p style="margin:24px 0"><a href="{{link}}" style="background:#2f6fed;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;display:inline-block">{{action}}</a></p>
<p style="font-size:12px;color:#5c6373">{{linkFallback}} <a href="{{link}}">{{link}}</a></p>
{{/if}}<p style="font-size:12px;color:#5c6373;margin-top:32px">{{footer}}</p>
</td></tr></table></body></html>`;

/**
 * Renders the catalog's templates: in-app text and emails (HTML escaped, plain text not). Compiled
 * templates are cached; a type without a template in the locale falls back to English.
 */
@Injectable()
export class TemplateRenderer {
  private readonly html = Handlebars.create();
  private readonly plain = Handlebars.create();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layout: Handlebars.TemplateDelegate;

  constructor() {
    for (const engine of [this.html, this.plain]) {
      engine.registerHelper('date', (value: unknown, options: Handlebars.HelperOptions) => {
        const date = new Date(String(value));
        if (Number.isNaN(date.getTime())) return String(value ?? '');
        const locale = (options.data?.root as { locale?: string })?.locale ?? 'en';
        return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date) + ' UTC';
      });
    }
    this.layout = this.html.compile(LAYOUT, { strict: false });
  }

  inApp(type: string, locale: Locale, params: Record<string, string>): RenderedInApp {
    const template = this.template(type, locale);
    return { title: this.text(template.title, locale, params), body: this.text(template.body, locale, params) };
  }

  email(type: string, locale: Locale, params: Record<string, string>): RenderedEmail {
    const template = this.template(type, locale);
    const subject = this.text(template.subject, locale, params);
    const paragraphs = template.paragraphs.map((paragraph) => this.text(paragraph, locale, params));
    const action = template.action && params.link ? this.text(template.action, locale, params) : undefined;
    return this.assemble(locale, { subject, paragraphs, action, link: params.link });
  }

  digest(locale: Locale, recipientName: string, items: DigestItem[]): RenderedEmail {
    const { digest } = TEMPLATES[locale];
    const params = { recipientName, count: String(items.length) };
    const subject = this.text(digest.subject, locale, params);
    const intro = this.text(digest.intro, locale, params);
    return this.assemble(locale, { subject, paragraphs: [intro], items, footer: digest.footer });
  }

  private assemble(
    locale: Locale,
    email: { subject: string; paragraphs: string[]; action?: string; link?: string; items?: DigestItem[]; footer?: string },
  ): RenderedEmail {
    const layout = TEMPLATES[locale].layout;
    const footer = email.footer ?? layout.footer;
    const html = this.layout({ ...email, locale, footer, linkFallback: layout.linkFallback });
    const lines = [...email.paragraphs];
    for (const item of email.items ?? []) lines.push(item.link ? `- ${item.subject}: ${item.link}` : `- ${item.subject}`);
    if (email.action && email.link) lines.push(`${email.action}: ${email.link}`);
    lines.push('--', footer);
    return { subject: email.subject, text: lines.join('\n\n'), html };
  }

  private template(type: string, locale: Locale): NotificationTemplate {
    const template = TEMPLATES[locale].types[type] ?? TEMPLATES.en.types[type];
    if (!template) throw new Error(`No template for notification type ${type}`);
    return template;
  }

  private text(source: string, locale: Locale, params: Record<string, string>): string {
    let compiled = this.compiled.get(source);
    if (!compiled) {
      compiled = this.plain.compile(source, { noEscape: true });
      this.compiled.set(source, compiled);
    }
    const actorName = params.actorName === '' ? TEMPLATES[locale].layout.unknownActor : params.actorName;
    return compiled({ ...params, ...(actorName === undefined ? {} : { actorName }), locale });
  }
}
