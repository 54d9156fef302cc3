import { registerMessages } from '@multipult/graphql';

/** The export service's error messages, in every language the platform answers in. */
export function registerExportMessages(): void {
  registerMessages({
    en: {
      'errors.export_exists': 'A export with this name already exists',
    },
    ru: {
      'errors.export_exists': 'Запись «export» с таким именем уже есть',
    },
  });
}
