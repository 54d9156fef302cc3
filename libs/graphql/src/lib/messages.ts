export type Locale = 'en' | 'ru';
export const SUPPORTED_LOCALES: readonly Locale[] = ['en', 'ru'];

type Catalogue = Record<string, string>;

const en: Catalogue = {
  'errors.unauthenticated': 'Authentication required',
  'errors.invalid_token': 'The access token is invalid or expired',
  'errors.invalid_api_key': 'The API key is invalid, revoked or expired',
  'errors.session_revoked': 'The session has ended; sign in again',
  'errors.forbidden': 'You do not have permission to do this',
  'errors.missing_permission': 'Missing permission: {permission}',
  'errors.tenant_required': 'Select a tenant first',
  'errors.not_a_member': 'You are not a member of this tenant',
  'errors.not_found': '{entity} not found',
  'errors.bad_user_input': 'The input is invalid',
  'errors.rate_limited': 'Too many requests; retry in {retryAfterSeconds} s',
  'errors.mfa_required': 'Enter the code from your authenticator app (or a backup code) to finish signing in',
  'errors.query_too_deep': 'Query depth {depth} exceeds the limit of {limit}',
  'errors.query_too_complex': 'Query cost {cost} exceeds the limit of {limit}',
  'errors.payload_too_large': 'Request body exceeds the limit of {limit}',
  'errors.payload_too_large_for_service': 'The request is too large for the service that answers it',
  'errors.service_unavailable': 'A service this request needs is unavailable; try again later',
  'errors.internal': 'Internal server error',
  'errors.invalid_credentials': 'Email or password is incorrect',
  'errors.email_taken': 'An account with this email already exists',
  'errors.username_taken': 'This username is already taken',
  'validation.username': 'Must be 3 to 30 lowercase letters, digits or underscores',
  'errors.invalid_refresh_token': 'The refresh token is invalid, expired or already used',
  'errors.slug_taken': 'This tenant slug is already taken',
  'errors.already_member': 'The user is already a member of this tenant',
  'errors.unknown_role': 'Unknown role: {role}',
  'validation.isEmail': 'Must be a valid email address',
  'validation.minLength': 'Must be at least {min} characters long',
  'validation.maxLength': 'Must be at most {max} characters long',
  'validation.isUUID': 'Must be a UUID',
  'validation.weakPassword': 'Password is too weak: use at least 10 characters with letters and digits or symbols',
  'validation.commonPassword': 'This password is too common',
  'validation.matches': 'Has an invalid format',
  'validation.isNotEmpty': 'Must not be empty',
  'validation.min': 'Must be at least {min}',
  'validation.max': 'Must be at most {max}',
  'validation.invalid': 'Is invalid',
  'validation.cursor': 'Is not a cursor of this list; use an endCursor of the same list and order, or start again without it',
  'validation.arrayMinSize': 'Must have at least {min} items',
  'validation.arrayMaxSize': 'Must have at most {max} items',
  'validation.noNul': 'Must not contain NUL characters (U+0000)',
  'validation.wellFormedText': 'Must be well-formed Unicode text (no unpaired surrogates)',
};

const ru: Catalogue = {
  'errors.unauthenticated': 'Требуется вход в систему',
  'errors.invalid_token': 'Токен доступа недействителен или истёк',
  'errors.invalid_api_key': 'API-ключ недействителен, отозван или истёк',
  'errors.session_revoked': 'Сеанс завершён; войдите снова',
  'errors.forbidden': 'Недостаточно прав для этого действия',
  'errors.missing_permission': 'Нет разрешения: {permission}',
  'errors.tenant_required': 'Сначала выберите организацию',
  'errors.not_a_member': 'Вы не состоите в этой организации',
  'errors.not_found': '{entity}: не найдено',
  'errors.bad_user_input': 'Некорректные входные данные',
  'errors.rate_limited': 'Слишком много запросов; повторите через {retryAfterSeconds} с',
  'errors.mfa_required': 'Введите код из приложения-аутентификатора (или резервный код), чтобы завершить вход',
  'errors.query_too_deep': 'Глубина запроса {depth} превышает предел {limit}',
  'errors.query_too_complex': 'Стоимость запроса {cost} превышает предел {limit}',
  'errors.payload_too_large': 'Тело запроса превышает предел {limit}',
  'errors.payload_too_large_for_service': 'Запрос слишком велик для сервиса, который на него отвечает',
  'errors.service_unavailable': 'Сервис, нужный для этого запроса, недоступен; повторите позже',
  'errors.internal': 'Внутренняя ошибка сервера',
  'errors.invalid_credentials': 'Неверный email или пароль',
  'errors.email_taken': 'Пользователь с таким email уже существует',
  'errors.username_taken': 'Это имя пользователя уже занято',
  'validation.username': 'Должно быть от 3 до 30 строчных латинских букв, цифр или _',
  'errors.invalid_refresh_token': 'Токен обновления недействителен, истёк или уже использован',
  'errors.slug_taken': 'Такой адрес организации уже занят',
  'errors.already_member': 'Пользователь уже состоит в этой организации',
  'errors.unknown_role': 'Неизвестная роль: {role}',
  'validation.isEmail': 'Должен быть корректный адрес email',
  'validation.minLength': 'Должно быть не короче {min} символов',
  'validation.maxLength': 'Должно быть не длиннее {max} символов',
  'validation.isUUID': 'Должен быть UUID',
  'validation.weakPassword': 'Слишком простой пароль: не меньше 10 символов, буквы и цифры или знаки',
  'validation.commonPassword': 'Этот пароль слишком распространён',
  'validation.matches': 'Неверный формат',
  'validation.isNotEmpty': 'Не должно быть пустым',
  'validation.min': 'Должно быть не меньше {min}',
  'validation.max': 'Должно быть не больше {max}',
  'validation.invalid': 'Некорректное значение',
  'validation.cursor': 'Это не курсор этого списка: передайте endCursor того же списка и порядка или начните сначала без него',
  'validation.arrayMinSize': 'Нужно не меньше {min} элементов',
  'validation.arrayMaxSize': 'Допускается не больше {max} элементов',
  'validation.noNul': 'Не должно содержать символов NUL (U+0000)',
  'validation.wellFormedText': 'Должно быть корректным текстом Unicode (без непарных суррогатов)',
};

const catalogues: Record<Locale, Catalogue> = { en, ru };

/** The first supported locale among the caller's preferences (`ru-RU` counts as `ru`), else English. */
export function pickLocale(preferred: readonly string[] = []): Locale {
  for (const tag of preferred) {
    const language = tag.split('-')[0] as Locale;
    if (SUPPORTED_LOCALES.includes(language)) return language;
  }
  return 'en';
}

/** Services register their own keys at start-up; keys already present are not overwritten. */
export function registerMessages(messages: Partial<Record<Locale, Catalogue>>): void {
  for (const locale of SUPPORTED_LOCALES) {
    for (const [key, text] of Object.entries(messages[locale] ?? {})) {
      if (!(key in catalogues[locale])) catalogues[locale][key] = text;
    }
  }
}

export function translate(key: string, locale: Locale, params: Record<string, string | number> = {}): string {
  const template = catalogues[locale][key] ?? catalogues.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
