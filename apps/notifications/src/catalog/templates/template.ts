/**
 * One notification type in one language. Handlebars syntax; parameters are the kind's params plus
 * `actorName` (who caused it) and `recipientName`. `title`/`body` are the in-app text; the email
 * is `subject`, `paragraphs` and an optional button to `link` labelled `action`.
 */
export interface NotificationTemplate {
  title: string;
  body: string;
  subject: string;
  paragraphs: string[];
  action?: string;
}

export type TemplateSet = Record<string, NotificationTemplate>;

export interface DigestTemplate {
  subject: string;
  intro: string;
  footer: string;
}

export interface LayoutText {
  /** Under every email: why the reader got it and where to change that. */
  footer: string;
  /** For clients that cannot press the button. */
  linkFallback: string;
  /** Names an actor this service has not recorded yet (their registration still on its way). */
  unknownActor: string;
}
