import { registerMessages } from '@multipult/graphql';

/** The export service's error messages, in every language the platform answers in. */
export function registerExportMessages(): void {
  registerMessages({
    en: {
      'errors.export_exists': 'A export with this name already exists',
      'errors.jira_connection_exists': 'A JIRA connection with this name already exists',
      'errors.jira_private_target': 'This JIRA address is not reachable from the platform (private network)',
      'errors.jira_sign_in_failed': 'JIRA refused the account: check the email and API token ({status})',
      'errors.jira_unreachable': 'JIRA could not be reached: {reason}',
      'validation.jiraBaseUrl': 'Must be the https address of a JIRA site, without credentials, query or fragment',
      'validation.jiraProjectKey': 'Must be a JIRA project key: upper-case letters, digits and _, starting with a letter',
      'validation.jiraLabel': 'A JIRA label must not contain spaces',
      'validation.jiraCustomFieldId': 'Must be a custom field id such as customfield_10010',
      'validation.jiraCustomFieldPlaceholder': 'Only {{title}}, {{summary}} and {{documentId}} can be used as placeholders',
      'validation.jiraCustomFieldDuplicate': 'Each custom field may be given once',
    },
    ru: {
      'errors.export_exists': 'Запись «export» с таким именем уже есть',
      'errors.jira_connection_exists': 'Подключение JIRA с таким именем уже есть',
      'errors.jira_private_target': 'Этот адрес JIRA недоступен платформе (частная сеть)',
      'errors.jira_sign_in_failed': 'JIRA не приняла учётную запись: проверьте email и API-токен ({status})',
      'errors.jira_unreachable': 'Не удалось связаться с JIRA: {reason}',
      'validation.jiraBaseUrl': 'Должен быть https-адрес сайта JIRA без учётных данных, запроса и фрагмента',
      'validation.jiraProjectKey': 'Должен быть ключ проекта JIRA: заглавные латинские буквы, цифры и _, первой — буква',
      'validation.jiraLabel': 'Метка JIRA не должна содержать пробелов',
      'validation.jiraCustomFieldId': 'Должен быть идентификатор поля вида customfield_10010',
      'validation.jiraCustomFieldPlaceholder': 'Допустимы только подстановки {{title}}, {{summary}} и {{documentId}}',
      'validation.jiraCustomFieldDuplicate': 'Каждое поле можно указать один раз',
    },
  });
}
