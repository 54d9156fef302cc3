import { registerMessages } from '@multipult/graphql';

/** The export service's error messages, in every language the platform answers in. */
export function registerExportMessages(): void {
  registerMessages({
    en: {
      'errors.export_selection_one': 'Choose exactly one of: documents, a collection, a search',
      'errors.export_duplicate_documents': 'A document is listed twice',
      'errors.export_documents_unreadable': '{count} of the documents do not exist or you cannot read them',
      'errors.export_nothing_selected': 'The selection holds no document you can read',
      'errors.export_too_many_documents': 'An export holds at most {max} documents',
      'errors.export_content_unavailable': 'Documents cannot be read right now; try again shortly',
      'errors.export_jira_connection_required': 'A JIRA export needs a JIRA connection',
      'errors.export_watermark_empty': 'A watermark needs a text or an image',
      'errors.export_finished': 'The export has already finished',
      'errors.export_not_ready': 'The export has no file to download yet',
      'errors.export_file_expired': "The export's file has expired and was deleted",
      'errors.export_template_exists': 'A template with this name already exists',
      'errors.export_template_invalid': 'The template is not valid: {reason}',
      'errors.export_template_version_unknown': 'The template has no such version',
      'errors.export_image_too_large': 'The image is larger than {maxBytes} bytes',
      'errors.export_image_format': 'The image must be a PNG or a JPEG',
      'errors.export_schedule_invalid': 'The schedule is not valid: {reason}',
      'errors.export_schedule_failed': 'The scheduled export could not start: {reason}',
    },
    ru: {
      'errors.export_selection_one': 'Выберите одно: документы, подборку или поиск',
      'errors.export_duplicate_documents': 'Документ указан дважды',
      'errors.export_documents_unreadable': 'Документов, которых нет или которые вам недоступны: {count}',
      'errors.export_nothing_selected': 'В выборке нет доступных вам документов',
      'errors.export_too_many_documents': 'В экспорте может быть не больше {max} документов',
      'errors.export_content_unavailable': 'Документы сейчас недоступны; попробуйте чуть позже',
      'errors.export_jira_connection_required': 'Для экспорта в JIRA нужно подключение к JIRA',
      'errors.export_watermark_empty': 'Для водяного знака нужен текст или изображение',
      'errors.export_finished': 'Экспорт уже завершён',
      'errors.export_not_ready': 'Файл экспорта ещё не готов',
      'errors.export_file_expired': 'Срок хранения файла истёк, он удалён',
      'errors.export_template_exists': 'Шаблон с таким названием уже есть',
      'errors.export_template_invalid': 'Шаблон содержит ошибку: {reason}',
      'errors.export_template_version_unknown': 'У шаблона нет такой версии',
      'errors.export_image_too_large': 'Изображение больше {maxBytes} байт',
      'errors.export_image_format': 'Изображение должно быть в формате PNG или JPEG',
      'errors.export_schedule_invalid': 'Расписание содержит ошибку: {reason}',
      'errors.export_schedule_failed': 'Экспорт по расписанию не запустился: {reason}',
    },
  });
}
