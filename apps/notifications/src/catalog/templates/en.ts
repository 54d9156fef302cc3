import { DigestTemplate, LayoutText, TemplateSet } from './template';

export const en: TemplateSet = {
  welcome: {
    title: 'Welcome to Multipult, {{recipientName}}',
    body: 'Your account is ready. Create a workspace or open one you were invited to.',
    subject: 'Welcome to Multipult',
    paragraphs: ['Hello {{recipientName}},', 'Your account is ready. Create a workspace or open one you were invited to.'],
    action: 'Get started',
  },
  mention: {
    title: '{{actorName}} mentioned you',
    body: '{{actorName}} mentioned you in a comment.',
    subject: '{{actorName}} mentioned you in a comment',
    paragraphs: ['Hello {{recipientName}},', '{{actorName}} mentioned you in a comment.'],
    action: 'Open the comment',
  },
  comment_reply: {
    title: '{{actorName}} replied to your comment',
    body: '{{actorName}} replied to your comment.',
    subject: '{{actorName}} replied to your comment',
    paragraphs: ['Hello {{recipientName}},', '{{actorName}} replied to your comment.'],
    action: 'Read the reply',
  },
  security_alert: {
    title: 'A session of your account was signed out',
    body: 'One of your sessions was ended ({{reason}}). If this was not you, change your password.',
    subject: 'Security alert: a session of your account was signed out',
    paragraphs: [
      'Hello {{recipientName}},',
      'One of your sessions was ended (reason: {{reason}}).',
      'If this was not you, change your password and review your sessions.',
    ],
    action: 'Review sessions',
  },
  password_changed: {
    title: 'Your password was changed',
    body: 'Your password was changed and every session was signed out. If this was not you, reset it again at once.',
    subject: 'Your Multipult password was changed',
    paragraphs: [
      'Hello {{recipientName}},',
      'The password of your account was changed and every session was signed out.',
      'If this was not you, reset your password again at once and review your account.',
    ],
    action: 'Review security',
  },
  email_verification: {
    title: 'Confirm your email address',
    body: 'Confirm your email address to finish setting up your account.',
    subject: 'Confirm your email address',
    paragraphs: ['Confirm your email address to finish setting up your account.', 'The link works until {{date expiresAt}}.'],
    action: 'Confirm address',
  },
  password_reset: {
    title: 'Reset your password',
    body: 'Someone asked to reset your password.',
    subject: 'Reset your Multipult password',
    paragraphs: [
      'Someone asked to reset the password of your account.',
      'The link works until {{date expiresAt}}. If it was not you, ignore this email: your password stays as it is.',
    ],
    action: 'Choose a new password',
  },
  tenant_invitation: {
    title: '{{inviterName}} invited you to {{tenantName}}',
    body: '{{inviterName}} invited you to join {{tenantName}} as {{role}}.',
    subject: '{{inviterName}} invited you to {{tenantName}}',
    paragraphs: ['{{inviterName}} invited you to join {{tenantName}} as {{role}}.', 'The invitation is valid until {{date expiresAt}}.'],
    action: 'Accept the invitation',
  },
  export_ready: {
    title: 'Your export is ready: {{title}}',
    body: '{{title}} ({{itemCount}} documents) is ready to download.',
    subject: 'Your export is ready: {{title}}',
    paragraphs: ['Hello {{recipientName}},', 'Your export {{title}} ({{itemCount}} documents) is ready.', 'You can download it until {{date expiresAt}}.'],
    action: 'Download',
  },
  export_failed: {
    title: 'Your export failed: {{title}}',
    body: '{{title}} could not be produced ({{errorCode}}). Try again, or ask an administrator.',
    subject: 'Your export failed: {{title}}',
    paragraphs: ['Hello {{recipientName}},', 'Your export {{title}} could not be produced ({{errorCode}}).', 'Try again, or ask an administrator.'],
    action: 'Open the export',
  },
  approval_requested: {
    title: '{{agentName}} asks to run {{tool}}',
    body: '{{agentName}} asks to run a {{#if highRisk}}high{{else}}medium{{/if}}-risk call: {{summary}}. Approve or reject it by {{date expiresAt}}.',
    subject: 'Approval needed: {{agentName}} asks to run {{tool}}',
    paragraphs: [
      'Hello {{recipientName}},',
      'The agent {{agentName}} asks to run {{tool}}, a {{#if highRisk}}high{{else}}medium{{/if}}-risk call:',
      '{{summary}}',
      'Approve or reject it by {{date expiresAt}}. If nobody decides by then, the call is rejected.',
    ],
    action: 'Review the call',
  },
  approval_expiring: {
    title: 'Decide soon: {{agentName}} is waiting to run {{tool}}',
    body: 'The {{#if highRisk}}high{{else}}medium{{/if}}-risk call {{summary}} is rejected at {{date expiresAt}} unless you decide first.',
    subject: 'Reminder: {{agentName}} is still waiting for your approval',
    paragraphs: [
      'Hello {{recipientName}},',
      'The agent {{agentName}} is still waiting for your decision on {{tool}}, a {{#if highRisk}}high{{else}}medium{{/if}}-risk call:',
      '{{summary}}',
      'If nobody approves it by {{date expiresAt}}, the call is rejected.',
    ],
    action: 'Decide now',
  },
  announcement: {
    title: '{{title}}',
    body: '{{body}}',
    subject: '{{title}}',
    paragraphs: ['{{body}}'],
  },
};

export const enDigest: DigestTemplate = {
  subject: 'Your Multipult digest: {{count}} new notifications',
  intro: 'Hello {{recipientName}}, here is what happened since your last digest.',
  footer: 'You receive one digest a day because you chose it in your notification settings.',
};

export const enLayout: LayoutText = {
  footer: 'You receive this email because of your Multipult notification settings.',
  linkFallback: 'Or open this link:',
  unknownActor: 'Someone',
};
