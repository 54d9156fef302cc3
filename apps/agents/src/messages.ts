import { registerMessages } from '@multipult/graphql';

/** The agents service's error messages, in every language the platform answers in. */
export function registerAgentsMessages(): void {
  registerMessages({
    en: {
      'errors.agent_exists': 'An agent with this name already exists',
    },
    ru: {
      'errors.agent_exists': 'Запись «agent» с таким именем уже есть',
    },
  });
}
