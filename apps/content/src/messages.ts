import { registerMessages } from '@multipult/graphql';

/** The content service's own error messages (en, ru). */
export function registerContentMessages(): void {
  registerMessages({
    en: {
      'errors.tag_exists': 'A tag with this name already exists',
      'errors.version_conflict': 'The document changed since version {expected} (now {actual}); reload and retry',
      'errors.invalid_status_change': 'A {from} document cannot become {to}',
      'validation.language': 'Must be an ISO 639-1 language code such as en, ru or tt',
      'errors.comment_too_deep': 'Threads are at most {levels} levels deep; reply higher up the thread',
      'errors.translation_same_language': 'The document is written in {language}; a translation needs another language',
      'errors.language_has_translation': 'The document has a translation into {language}; delete it before writing the original in {language}',
      'errors.collection_has_document': 'The document is already in this collection',
      'errors.collection_full': 'A collection holds at most {max} documents',
      'errors.collection_order_mismatch': 'List each of the collection\'s {count} documents exactly once',
    },
    ru: {
      'errors.tag_exists': 'Тег с таким именем уже существует',
      'errors.version_conflict': 'Документ изменился после версии {expected} (сейчас {actual}); обновите и повторите',
      'errors.invalid_status_change': 'Документ в статусе {from} нельзя перевести в {to}',
      'validation.language': 'Должен быть код языка ISO 639-1, например en, ru или tt',
      'errors.comment_too_deep': 'Ветка обсуждения — не больше {levels} уровней; ответьте выше по ветке',
      'errors.translation_same_language': 'Документ написан на языке {language}; перевод должен быть на другом языке',
      'errors.language_has_translation': 'У документа есть перевод на язык {language}; удалите его, прежде чем писать оригинал на этом языке',
      'errors.collection_has_document': 'Документ уже есть в этой подборке',
      'errors.collection_full': 'В подборке может быть не больше {max} документов',
      'errors.collection_order_mismatch': 'Перечислите каждый из {count} документов подборки ровно один раз',
    },
  });
}
