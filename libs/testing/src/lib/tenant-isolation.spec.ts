import { GraphQLResult } from './graphql-client';
import { findTenantIsolationViolations } from './tenant-isolation';

const answer = (body: Partial<GraphQLResult<unknown>>): Promise<GraphQLResult<unknown>> =>
  Promise.resolve({ status: 200, headers: new Headers(), text: JSON.stringify(body), ...body });

describe('findTenantIsolationViolations', () => {
  const foreign = 'b0000000-0000-4000-8000-000000000000';

  const ownerSeesIt = () => answer({ data: { items: [{ id: foreign }] } });

  it('passes operations that answer NOT_FOUND or FORBIDDEN and lists without foreign rows', async () => {
    const violations = await findTenantIsolationViolations([
      { name: 'byId', kind: 'byId', foreignIds: [foreign], call: () => answer({ errors: [{ message: 'x', extensions: { code: 'NOT_FOUND' } }] }) },
      { name: 'list', kind: 'list', foreignIds: [foreign], call: () => answer({ data: { items: [{ id: 'mine' }] } }), ownerCall: ownerSeesIt },
      { name: 'batch', kind: 'batch', foreignIds: [foreign], call: () => answer({ data: { marked: [] } }) },
    ]);
    expect(violations).toEqual([]);
  });

  it('reports a list probe whose owner does not see the item either, since its empty answer proves nothing', async () => {
    const empty = () => answer({ data: { items: [] } });
    const failing = () => answer({ errors: [{ message: 'x', extensions: { code: 'FORBIDDEN' } }] });
    const violations = await findTenantIsolationViolations([
      { name: 'blind list', kind: 'list', foreignIds: [foreign], call: empty, ownerCall: empty },
      { name: 'refused owner', kind: 'list', foreignIds: [foreign], call: empty, ownerCall: failing },
    ]);
    expect(violations.map((violation) => violation.probe)).toEqual(['blind list', 'refused owner']);
    expect(violations[0].reason).toMatch(/^positive control failed/);
  });

  it('reports foreign rows in lists, data for foreign ids and the wrong error code', async () => {
    const violations = await findTenantIsolationViolations([
      { name: 'leaky list', kind: 'list', foreignIds: [foreign], call: () => answer({ data: { items: [{ nested: { id: foreign } }] } }), ownerCall: ownerSeesIt },
      { name: 'leaky get', kind: 'byId', foreignIds: [foreign], call: (id) => answer({ data: { item: { id } } }) },
      { name: 'wrong code', kind: 'byId', foreignIds: [foreign], call: () => answer({ errors: [{ message: 'x', extensions: { code: 'INTERNAL' } }] }) },
      { name: 'leaky batch', kind: 'batch', foreignIds: [foreign], call: () => answer({ data: { marked: [{ id: foreign }] } }) },
    ]);
    expect(violations.map((violation) => violation.probe)).toEqual(['leaky list', 'leaky get', 'leaky get', 'wrong code', 'leaky batch']);
  });
});
