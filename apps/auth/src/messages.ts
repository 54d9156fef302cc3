import { registerMessages } from '@multipult/graphql';

/** The auth service's own error messages (en, ru), beyond the shared catalogue. */
export function registerAuthMessages(): void {
  registerMessages({
    en: {
      'errors.token_invalid': 'This link is invalid, used or expired; ask for a new one',
      'errors.email_already_verified': 'Your email address is already confirmed',
    },
    ru: {
      'errors.token_invalid': 'Ссылка недействительна, уже использована или устарела; запросите новую',
      'errors.email_already_verified': 'Ваш адрес электронной почты уже подтверждён',
    },
  });
}
