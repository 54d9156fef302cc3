import { registerMessages } from '@multipult/graphql';

/** The notifications service's own error messages (en, ru). */
export function registerNotificationsMessages(): void {
  registerMessages({
    en: {
      'errors.unknown_notification_type': 'There is no notification type "{type}"',
      'errors.channel_not_offered': '{type} notifications are not sent by {channel}',
      'errors.preference_critical': '{type} notifications are about your account\'s security and cannot be turned off',
      'errors.recipient_unknown': 'Your account is not set up for notifications yet; try again in a moment',
      'validation.timeZone': 'Must be an IANA time zone such as Europe/Moscow',
      'validation.locale': 'Must be one of: en, ru',
      'validation.clientId': 'Must be 1–64 characters of A-Z, a-z, 0-9, dot, underscore, colon or hyphen',
      'validation.webhookUrl': 'Must be an http(s) URL without credentials',
      'errors.webhook_private_target': 'This address is in a private or reserved network; webhooks may only reach public addresses',
      'errors.unknown_event_type': 'Unknown event types: {types}',
      'errors.webhook_limit': 'A tenant can have at most {max} webhook endpoints',
    },
    ru: {
      'errors.unknown_notification_type': 'Типа уведомлений «{type}» не существует',
      'errors.channel_not_offered': 'Уведомления {type} не отправляются через {channel}',
      'errors.preference_critical': 'Уведомления {type} касаются безопасности аккаунта, их нельзя отключить',
      'errors.recipient_unknown': 'Уведомления для вашего аккаунта ещё не настроены; повторите чуть позже',
      'validation.timeZone': 'Должен быть часовой пояс IANA, например Europe/Moscow',
      'validation.locale': 'Допустимые значения: en, ru',
      'validation.clientId': 'От 1 до 64 символов: A-Z, a-z, 0-9, точка, подчёркивание, двоеточие или дефис',
      'validation.webhookUrl': 'Должен быть URL http(s) без логина и пароля',
      'errors.webhook_private_target': 'Адрес относится к частной или зарезервированной сети; вебхуки могут обращаться только к публичным адресам',
      'errors.unknown_event_type': 'Неизвестные типы событий: {types}',
      'errors.webhook_limit': 'У арендатора может быть не больше {max} вебхуков',
    },
  });
}
