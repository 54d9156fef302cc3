import { CreateAgentsSchema1796249074552 } from './1796249074552-create-agents-schema';

/** The agents schema's migrations in the order they run; the kit adds the event tables before them. */
export const agentsMigrations = [CreateAgentsSchema1796249074552];
