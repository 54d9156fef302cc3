import { GraphQLResult } from './graphql-client';
import { findTenantIsolationViolations } from './tenant-isolation';

const answer = (body: Partial<GraphQLResult<unknown>>): Promise<GraphQLResult<unknown>> =>
  Promise.resolve({ status: 200, headers: new Headers(), text: JSON.stringify(body), ...body });

describe('findTenantIsolationViolations', () => {
  const foreign = 'b0000000-0000-4000-8000-000000000000';

  it('passes operations that answer NOT_FOUND or FORBIDDEN and lists without foreign rows', async () => {
    const violations = await findTenantIsolationViolations([
      { name: 'byId', kind: 'byId', foreignIds: [foreign], call: () => answer({ errors: [{ message: 'x', extensions: { code: 'NOT_FOUND' } }] }) },
      { name: 'list', kind: 'list', foreignIds: [foreign], call: () => answer({ data: { items: [{ id: 'mine' }] } }) },
    ]);
    expect(violations).toEqual([]);
  });

  it('reports foreign rows in lists, data for foreign ids and the wrong error code', async () => {
    const violations = await findTenantIsolationViolations([
      { name: 'leaky list', kind: 'list', foreignIds: [foreign], call: () => answer({ data: { items: [{ nested: { id: foreign } }] } }) },
      { name: 'leaky get', kind: 'byId', foreignIds: [foreign], call: (id) => answer({ data: { item: { id } } }) },
      { name: 'wrong code', kind: 'byId', foreignIds: [foreign], call: () => answer({ errors: [{ message: 'x', extensions: { code: 'INTERNAL' } }] }) },
    ]);
    expect(violations.map((violation) => violation.probe)).toEqual(['leaky list', 'leaky get', 'leaky get', 'wrong code']);
  });
});
