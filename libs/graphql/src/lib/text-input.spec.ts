import net from 'node:net';
import { Body, Controller, Get, INestApplication, LoggerService, Module, Param, Post } from '@nestjs/common';
import { ApolloFederationDriverConfig } from '@nestjs/apollo';
import { Args, Field, InputType, Mutation, Query, Resolver } from '@nestjs/graphql';
import { GraphQLModule } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { IsOptional, IsString } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ObservabilityModule } from '@multipult/observability';
import { configureServiceApp } from './service-app';
import { subgraphGraphQLOptions } from './subgraph-options';
import { textProblem } from './text-input';

/** What reached a resolver or route: a refused request must leave this empty. */
const received: unknown[] = [];

@InputType()
class NoteInput {
  @Field()
  @IsString()
  title: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @IsString({ each: true })
  tags?: string[];

  @Field(() => GraphQLJSONObject, { nullable: true })
  @IsOptional()
  data?: Record<string, unknown>;
}

@Resolver()
class NotesResolver {
  @Query(() => [String])
  search(@Args('query') query: string): string[] {
    received.push(query);
    return [query];
  }

  @Mutation(() => String)
  createNote(@Args('input') input: NoteInput): string {
    received.push(input);
    return input.title;
  }
}

@Controller('notes')
class NotesController {
  @Post()
  create(@Body() body: unknown): { ok: true } {
    received.push(body);
    return { ok: true };
  }

  @Get(':name')
  read(@Param('name') name: string): { name: string } {
    received.push(name);
    return { name };
  }
}

@Module({ providers: [NotesResolver], controllers: [NotesController] })
class NotesModule {}

/** The spec app's logger: what it was told, by level. */
class RecordingLogger implements LoggerService {
  readonly lines: { level: string; args: unknown[] }[] = [];
  log(...args: unknown[]): void {
    this.lines.push({ level: 'log', args });
  }
  error(...args: unknown[]): void {
    this.lines.push({ level: 'error', args });
  }
  warn(...args: unknown[]): void {
    this.lines.push({ level: 'warn', args });
  }
  get warnings(): unknown[][] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.args);
  }
}

interface GraphQLAnswer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions: { code: string; fields?: { field: string; constraint: string }[] } }[] };
}

describe('ill-formed text (NUL, unpaired surrogates)', () => {
  it('finds NUL and unpaired surrogates, and accepts paired ones', () => {
    expect(textProblem('q', 'a\u0000b')).toEqual({ field: 'q', key: 'validation.noNul' });
    expect(textProblem('q', 'a\ud800')).toEqual({ field: 'q', key: 'validation.wellFormedText' });
    expect(textProblem('q', '\udc00a')).toEqual({ field: 'q', key: 'validation.wellFormedText' });
    expect(textProblem('q', 'emoji 😀, ä, \u0001')).toBeUndefined();
  });

  describe('in a service app', () => {
    let app: INestApplication;
    let baseUrl: string;
    const logger = new RecordingLogger();

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ObservabilityModule.forRoot({ service: 'text-input-spec', logLevel: 'silent' }),
          GraphQLModule.forRoot<ApolloFederationDriverConfig>(subgraphGraphQLOptions({ production: false })),
          NotesModule,
        ],
      }).compile();
      app = moduleRef.createNestApplication({ bodyParser: false });
      configureServiceApp(app, { bodyLimit: '10kb' });
      app.useLogger(logger);
      await app.listen(0, '127.0.0.1');
      baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}`;
    });

    afterAll(() => app?.close());

    beforeEach(() => {
      received.length = 0;
      logger.lines.length = 0;
    });

    async function graphql(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLAnswer['body'] };
    }

    function expectRefused(answer: GraphQLAnswer, fields: { field: string; constraint: string }[]): void {
      expect(answer.status).toBe(400);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors).toHaveLength(1);
      expect(answer.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(answer.body.errors?.[0].extensions.fields).toEqual(fields.map((field) => expect.objectContaining(field)));
      expect(received).toEqual([]);
      expect(logger.warnings).toContainEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', fields: fields.map((field) => field.field) }),
        'rejected input',
        expect.any(String),
      ]);
    }

    it('refuses NUL in an inline string literal before the resolver runs', async () => {
      expectRefused(await graphql('{ search(query: "a\\u0000b") }'), [{ field: 'query', constraint: 'noNul' }]);
    });

    it('refuses NUL in variables, named by argument path, nested in input objects, lists and JSON scalars', async () => {
      const mutation = 'mutation($note: NoteInput!) { createNote(input: $note) }';
      expectRefused(await graphql(mutation, { note: { title: 'a\u0000' } }), [{ field: 'input.title', constraint: 'noNul' }]);
      expectRefused(await graphql(mutation, { note: { title: 'ok', tags: ['fine', 'b\u0000'] } }), [{ field: 'input.tags[1]', constraint: 'noNul' }]);
      expectRefused(await graphql(mutation, { note: { title: 'ok', data: { deep: [{ text: '\u0000' }] } } }), [
        { field: 'input.data.deep[0].text', constraint: 'noNul' },
      ]);
      expectRefused(await graphql('query($q: String!) { search(query: $q) }', { q: '\u0000' }), [{ field: 'query', constraint: 'noNul' }]);
    });

    it('refuses NUL in a variable inside an inline object and in a variable default', async () => {
      expectRefused(await graphql('mutation($t: String!) { createNote(input: { title: $t }) }', { t: 'x\u0000' }), [
        { field: 'input.title', constraint: 'noNul' },
      ]);
      expectRefused(await graphql('query($q: String = "\\u0000") { search(query: $q) }'), [{ field: 'query', constraint: 'noNul' }]);
    });

    it('refuses unpaired surrogates passed as variables (the document syntax refuses them itself)', async () => {
      expectRefused(await graphql('query($q: String!) { search(query: $q) }', { q: 'a\ud800' }), [{ field: 'query', constraint: 'wellFormedText' }]);
      const inline = await graphql('{ search(query: "a\\ud800") }');
      expect(inline.status).toBe(400);
      expect(inline.body.errors?.[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(received).toEqual([]);
    });

    it('checks every request’s own variables when the same document comes again (its arguments are found once)', async () => {
      const mutation = 'mutation($note: NoteInput!) { createNote(input: $note) }';
      expectRefused(await graphql(mutation, { note: { title: 'a\u0000' } }), [{ field: 'input.title', constraint: 'noNul' }]);
      expect(await graphql(mutation, { note: { title: 'fine' } })).toEqual({ status: 200, body: { data: { createNote: 'fine' } } });
      received.length = 0;
      expectRefused(await graphql(mutation, { note: { title: 'ok', tags: ['b\u0000'] } }), [{ field: 'input.tags[0]', constraint: 'noNul' }]);
    });

    it('runs operations whose text is well formed', async () => {
      const answer = await graphql('mutation($note: NoteInput!) { createNote(input: $note) }', { note: { title: 'Grüße 😀', tags: ['a'] } });
      expect(answer).toEqual({ status: 200, body: { data: { createNote: 'Grüße 😀' } } });
    });

    it('refuses NUL in plain HTTP routes: JSON bodies, path segments and query parameters', async () => {
      const body = await fetch(`${baseUrl}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'a\u0000' }),
      });
      expect(body.status).toBe(400);
      expect(await body.json()).toMatchObject({
        errors: [{ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'body.name', constraint: 'noNul' }] } }],
      });

      const path = await fetch(`${baseUrl}/notes/a%00b`);
      expect(path.status).toBe(400);
      expect(await path.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'path' }] } }] });

      const query = await fetch(`${baseUrl}/notes/a?token=%00`);
      expect(query.status).toBe(400);
      expect(await query.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'query.token' }] } }] });

      expect(received).toEqual([]);
      expect(logger.warnings).toHaveLength(3);
      expect((await fetch(`${baseUrl}/notes/plain`)).status).toBe(200);
    });

    it('sends helmet’s headers and no X-Powered-By on every answer, body parser refusals and 404s among them', async () => {
      const answers = [
        await fetch(`${baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' }),
        await fetch(`${baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `{ search(query: "${'x'.repeat(20_000)}") }` }),
        }),
        await fetch(`${baseUrl}/nowhere`),
        await fetch(`${baseUrl}/notes/plain`),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([400, 413, 404, 200]);
      for (const answer of answers) {
        expect(answer.headers.get('x-powered-by')).toBeNull();
        expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
        expect(answer.headers.get('strict-transport-security')).toMatch(/^max-age=/);
        expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      }
    });
  });
});
