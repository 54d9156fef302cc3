import { DigestTemplate, LayoutText, TemplateSet } from './template';

export const ru: TemplateSet = {
  welcome: {
    title: 'Добро пожаловать в Multipult, {{recipientName}}',
    body: 'Ваш аккаунт готов. Создайте рабочее пространство или откройте то, куда вас пригласили.',
    subject: 'Добро пожаловать в Multipult',
    paragraphs: [
      'Здравствуйте, {{recipientName}}!',
      'Ваш аккаунт готов. Создайте рабочее пространство или откройте то, куда вас пригласили.',
    ],
    action: 'Начать',
  },
  mention: {
    title: '{{actorName}} упомянул(а) вас',
    body: '{{actorName}} упомянул(а) вас в комментарии.',
    subject: '{{actorName}} упомянул(а) вас в комментарии',
    paragraphs: ['Здравствуйте, {{recipientName}}!', '{{actorName}} упомянул(а) вас в комментарии.'],
    action: 'Открыть комментарий',
  },
  comment_reply: {
    title: '{{actorName}} ответил(а) на ваш комментарий',
    body: '{{actorName}} ответил(а) на ваш комментарий.',
    subject: '{{actorName}} ответил(а) на ваш комментарий',
    paragraphs: ['Здравствуйте, {{recipientName}}!', '{{actorName}} ответил(а) на ваш комментарий.'],
    action: 'Прочитать ответ',
  },
  security_alert: {
    title: 'Один из сеансов вашего аккаунта завершён',
    body: 'Один из ваших сеансов завершён ({{reason}}). Если это были не вы, смените пароль.',
    subject: 'Безопасность: один из сеансов вашего аккаунта завершён',
    paragraphs: [
      'Здравствуйте, {{recipientName}}!',
      'Один из ваших сеансов завершён (причина: {{reason}}).',
      'Если это были не вы, смените пароль и проверьте список сеансов.',
    ],
    action: 'Проверить сеансы',
  },
  password_changed: {
    title: 'Ваш пароль изменён',
    body: 'Пароль изменён, все сеансы завершены. Если это были не вы, немедленно сбросьте его снова.',
    subject: 'Пароль Multipult изменён',
    paragraphs: [
      'Здравствуйте, {{recipientName}}!',
      'Пароль вашего аккаунта изменён, все сеансы завершены.',
      'Если это были не вы, немедленно сбросьте пароль снова и проверьте аккаунт.',
    ],
    action: 'Проверить безопасность',
  },
  email_verification: {
    title: 'Подтвердите адрес электронной почты',
    body: 'Подтвердите адрес, чтобы завершить настройку аккаунта.',
    subject: 'Подтвердите адрес электронной почты',
    paragraphs: ['Подтвердите адрес, чтобы завершить настройку аккаунта.', 'Ссылка действует до {{date expiresAt}}.'],
    action: 'Подтвердить адрес',
  },
  password_reset: {
    title: 'Сброс пароля',
    body: 'Кто-то запросил сброс вашего пароля.',
    subject: 'Сброс пароля Multipult',
    paragraphs: [
      'Кто-то запросил сброс пароля вашего аккаунта.',
      'Ссылка действует до {{date expiresAt}}. Если это были не вы, просто проигнорируйте письмо: пароль останется прежним.',
    ],
    action: 'Задать новый пароль',
  },
  tenant_invitation: {
    title: '{{inviterName}} приглашает вас в {{tenantName}}',
    body: '{{inviterName}} приглашает вас в {{tenantName}} с ролью {{role}}.',
    subject: '{{inviterName}} приглашает вас в {{tenantName}}',
    paragraphs: ['{{inviterName}} приглашает вас в {{tenantName}} с ролью {{role}}.', 'Приглашение действует до {{date expiresAt}}.'],
    action: 'Принять приглашение',
  },
  export_ready: {
    title: 'Экспорт готов: {{title}}',
    body: '{{title}} (документов: {{itemCount}}) можно скачать.',
    subject: 'Экспорт готов: {{title}}',
    paragraphs: ['Здравствуйте, {{recipientName}}!', 'Ваш экспорт {{title}} (документов: {{itemCount}}) готов.', 'Скачать его можно до {{date expiresAt}}.'],
    action: 'Скачать',
  },
  export_failed: {
    title: 'Экспорт не удался: {{title}}',
    body: 'Не удалось подготовить {{title}} ({{errorCode}}). Попробуйте ещё раз или обратитесь к администратору.',
    subject: 'Экспорт не удался: {{title}}',
    paragraphs: ['Здравствуйте, {{recipientName}}!', 'Не удалось подготовить экспорт {{title}} ({{errorCode}}).', 'Попробуйте ещё раз или обратитесь к администратору.'],
    action: 'Открыть экспорт',
  },
  approval_requested: {
    title: 'Агент {{agentName}} просит разрешения на {{tool}}',
    body: 'Агент {{agentName}} хочет выполнить действие {{#if highRisk}}с высоким{{else}}со средним{{/if}} риском: {{summary}}. Одобрите или отклоните его до {{date expiresAt}}.',
    subject: 'Нужно ваше решение: агент {{agentName}} хочет выполнить {{tool}}',
    paragraphs: [
      'Здравствуйте, {{recipientName}}!',
      'Агент {{agentName}} хочет выполнить {{tool}} — действие {{#if highRisk}}с высоким{{else}}со средним{{/if}} риском:',
      '{{summary}}',
      'Одобрите или отклоните его до {{date expiresAt}}. Если решения не будет, вызов отклонится автоматически.',
    ],
    action: 'Рассмотреть запрос',
  },
  approval_expiring: {
    title: 'Решите скорее: агент {{agentName}} ждёт разрешения на {{tool}}',
    body: 'Действие {{#if highRisk}}с высоким{{else}}со средним{{/if}} риском {{summary}} будет отклонено {{date expiresAt}}, если вы его не одобрите.',
    subject: 'Напоминание: агент {{agentName}} всё ещё ждёт вашего решения',
    paragraphs: [
      'Здравствуйте, {{recipientName}}!',
      'Агент {{agentName}} всё ещё ждёт вашего решения по {{tool}} — действию {{#if highRisk}}с высоким{{else}}со средним{{/if}} риском:',
      '{{summary}}',
      'Если никто не одобрит его до {{date expiresAt}}, вызов будет отклонён.',
    ],
    action: 'Принять решение',
  },
  announcement: {
    title: '{{title}}',
    body: '{{body}}',
    subject: '{{title}}',
    paragraphs: ['{{body}}'],
  },
};

export const ruDigest: DigestTemplate = {
  subject: 'Сводка Multipult: новых уведомлений — {{count}}',
  intro: 'Здравствуйте, {{recipientName}}! Вот что произошло с прошлой сводки.',
  footer: 'Вы получаете одну сводку в день, так как выбрали это в настройках уведомлений.',
};

export const ruLayout: LayoutText = {
  footer: 'Вы получили это письмо в соответствии с настройками уведомлений Multipult.',
  linkFallback: 'Или откройте ссылку:',
  unknownActor: 'Кто-то',
};
