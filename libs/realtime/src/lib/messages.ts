import { registerMessages } from '@multipult/graphql';

/** Messages of the gateway's subscription routing. */
export function registerRealtimeMessages(): void {
  registerMessages({
    en: {
      'validation.unknownRootField': 'No service offers the {operation} field {field}',
      'validation.rootFieldsOfSeveralServices':
        'Fields of one service per operation: {fields} come from {services}; send one operation per service',
      'validation.noOperation': 'The document has no operation {operation}',
    },
    ru: {
      'validation.unknownRootField': 'Ни один сервис не предоставляет поле {field} ({operation})',
      'validation.rootFieldsOfSeveralServices':
        'Одна операция может выбирать поля только одного сервиса: {fields} принадлежат {services}; отправьте по операции на сервис',
      'validation.noOperation': 'В документе нет операции {operation}',
    },
  });
}
