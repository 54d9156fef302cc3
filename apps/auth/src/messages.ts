import { registerMessages } from '@multipult/graphql';

/** The auth service's own error messages (en, ru), beyond the shared catalogue. */
export function registerAuthMessages(): void {
  registerMessages({
    en: {
      'errors.token_invalid': 'This link is invalid, used or expired; ask for a new one',
      'errors.email_already_verified': 'Your email address is already confirmed',
      'errors.invitation_other_address': 'This invitation was sent to another address; sign in with that one to accept it',
      'errors.last_admin': 'A tenant needs at least one admin; make someone else admin first',
      'errors.login_locked': 'Too many failed sign-ins; try again in {retryAfterSeconds} seconds or reset your password',
      'errors.wrong_password': 'The current password is not correct',
      'errors.account_banned': 'This account is suspended; contact support',
      'errors.sole_admin_of_tenants': 'You are the only admin of {count} tenant(s) with other members; make someone else admin first',
      'errors.email_domain_not_allowed': "This tenant only admits addresses of its allowed domains",
      'errors.member_limit_reached': 'This tenant has reached its limit of {limit} members',
      'errors.role_name_taken': 'A role with this name already exists in this tenant',
      'errors.role_in_use': 'Members or pending invitations have this role; give them another role first',
      'errors.builtin_role': 'Built-in roles cannot be changed or deleted',
      'errors.unknown_permission': 'Unknown permission: {permission}',
      'errors.role_exceeds_yours': 'You cannot hand out permissions you do not hold: {permission}',
      'errors.cannot_target_self': 'You cannot do this to your own account',
      'errors.last_platform_admin': 'The installation needs at least one platform admin; make someone else one first',
    },
    ru: {
      'errors.token_invalid': 'Ссылка недействительна, уже использована или устарела; запросите новую',
      'errors.email_already_verified': 'Ваш адрес электронной почты уже подтверждён',
      'errors.invitation_other_address': 'Приглашение отправлено на другой адрес; войдите с ним, чтобы принять его',
      'errors.last_admin': 'В организации должен остаться хотя бы один администратор; сначала назначьте другого',
      'errors.login_locked': 'Слишком много неудачных попыток входа; повторите через {retryAfterSeconds} с или сбросьте пароль',
      'errors.wrong_password': 'Текущий пароль указан неверно',
      'errors.account_banned': 'Этот аккаунт заблокирован; обратитесь в поддержку',
      'errors.sole_admin_of_tenants': 'Вы единственный администратор организаций с другими участниками ({count}); сначала назначьте другого администратора',
      'errors.email_domain_not_allowed': 'В эту организацию принимают только адреса разрешённых доменов',
      'errors.member_limit_reached': 'В организации уже максимальное число участников: {limit}',
      'errors.role_name_taken': 'Роль с таким названием в этой организации уже есть',
      'errors.role_in_use': 'Эта роль есть у участников или в приглашениях; сначала назначьте им другую',
      'errors.builtin_role': 'Встроенные роли нельзя изменять или удалять',
      'errors.unknown_permission': 'Неизвестное разрешение: {permission}',
      'errors.role_exceeds_yours': 'Нельзя выдавать разрешения, которых нет у вас: {permission}',
      'errors.cannot_target_self': 'Это нельзя сделать со своим аккаунтом',
      'errors.last_platform_admin': 'Нужен хотя бы один администратор платформы; сначала назначьте другого',
    },
  });
}
