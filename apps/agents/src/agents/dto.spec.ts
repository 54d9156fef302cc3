import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CreateAgentInput } from './dto';

describe('CreateAgentInput', () => {
  const problems = async (input: object) =>
    (await validate(plainToInstance(CreateAgentInput, input))).map((error) => error.property);

  it('accepts a name of 1 to 120 characters', async () => {
    expect(await problems({ name: 'a' })).toEqual([]);
    expect(await problems({ name: 'x'.repeat(120) })).toEqual([]);
  });

  it('refuses an empty, too long or missing name', async () => {
    expect(await problems({ name: '' })).toEqual(['name']);
    expect(await problems({ name: 'x'.repeat(121) })).toEqual(['name']);
    expect(await problems({})).toEqual(['name']);
  });
});
