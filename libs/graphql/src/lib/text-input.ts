import type { ApolloServerPlugin } from '@apollo/server';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { DocumentNode, Kind, ValueNode, visit } from 'graphql';
import { RequestContext } from '@multipult/observability';
import { AppError, ErrorCode, FieldProblem } from './errors';
import { pickLocale, translate } from './messages';

/**
 * Text no service can keep: NUL (PostgreSQL refuses U+0000 in text and jsonb) and unpaired UTF-16
 * surrogates (they have no UTF-8 form: PostgreSQL would silently get U+FFFD, and encodeURIComponent
 * throws on them). Both are refused as BAD_USER_INPUT before anything runs, in every service.
 */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Enough to show the caller what to fix without walking a hostile body to its end. */
const MAX_PROBLEMS = 10;

export function textProblem(field: string, text: string): FieldProblem | undefined {
  if (text.includes('\0')) return { field, key: 'validation.noNul' };
  if (UNPAIRED_SURROGATE.test(text)) return { field, key: 'validation.wellFormedText' };
  return undefined;
}

const joinPath = (path: string, name: string) => (path ? `${path}.${name}` : name);

class ProblemList {
  private readonly byField = new Map<string, FieldProblem>();

  get full(): boolean {
    return this.byField.size >= MAX_PROBLEMS;
  }

  check(field: string, text: string): void {
    const problem = this.full || this.byField.has(field) ? undefined : textProblem(field, text);
    if (problem) this.byField.set(field, problem);
  }

  /** Every string of a JSON value, object keys among them (a key's problem is reported at its object's path). */
  checkValue(value: unknown, path: string): void {
    // A stack rather than recursion: a body may nest deeper than the call stack goes.
    const pending: [unknown, string][] = [[value, path]];
    while (pending.length && !this.full) {
      const [current, at] = pending.pop() as [unknown, string];
      if (typeof current === 'string') this.check(at, current);
      else if (Array.isArray(current)) current.forEach((item, index) => pending.push([item, `${at}[${index}]`]));
      else if (current !== null && typeof current === 'object') {
        for (const [key, item] of Object.entries(current)) {
          this.check(at || '(root)', key);
          pending.push([item, joinPath(at, key)]);
        }
      }
    }
  }

  list(): FieldProblem[] {
    return [...this.byField.values()];
  }
}

/** An operation's argument values by their paths, and its variables' defaults. */
interface OperationArguments {
  values: [ValueNode, string][];
  defaults: Map<string, ValueNode>;
}

/** Apollo hands every request with the same query text the same parsed document: its arguments are found once. */
const argumentsByDocument = new WeakMap<DocumentNode, OperationArguments>();

function operationArguments(document: DocumentNode): OperationArguments {
  const known = argumentsByDocument.get(document);
  if (known) return known;
  const found: OperationArguments = { values: [], defaults: new Map() };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const variable of definition.variableDefinitions ?? []) {
      if (variable.defaultValue) found.defaults.set(variable.variable.name.value, variable.defaultValue);
    }
  }
  visit(document, {
    Argument(argument) {
      found.values.push([argument.value, argument.name.value]);
      return false;
    },
  });
  argumentsByDocument.set(document, found);
  return found;
}

/**
 * The ill-formed text in an operation's argument values, written inline or passed as variables
 * (a variable left out counts with its default), each named by its argument path (`input.title`,
 * `input.tags[1]`) as the validation pipe names fields.
 */
export function operationTextProblems(document: DocumentNode, variables: Record<string, unknown> = {}): FieldProblem[] {
  const problems = new ProblemList();
  const { values, defaults } = operationArguments(document);
  for (const [value, path] of values) {
    const pending: [ValueNode, string][] = [[value, path]];
    while (pending.length && !problems.full) {
      const [node, at] = pending.pop() as [ValueNode, string];
      if (node.kind === Kind.STRING) problems.check(at, node.value);
      else if (node.kind === Kind.LIST) node.values.forEach((item, index) => pending.push([item, `${at}[${index}]`]));
      else if (node.kind === Kind.OBJECT) node.fields.forEach((field) => pending.push([field.value, joinPath(at, field.name.value)]));
      else if (node.kind === Kind.VARIABLE) {
        const name = node.name.value;
        if (Object.hasOwn(variables, name)) problems.checkValue(variables[name], at);
        else if (defaults.has(name)) pending.push([defaults.get(name) as ValueNode, at]);
      }
    }
  }
  return problems.list();
}

/** The ill-formed text of a plain HTTP request: its decoded path, query parameters and parsed body. */
export function httpRequestTextProblems(req: Request): FieldProblem[] {
  const problems = new ProblemList();
  for (const segment of req.path.split('/')) {
    try {
      problems.check('path', decodeURIComponent(segment));
    } catch {
      // Not percent-decodable: the router answers that itself.
    }
  }
  problems.checkValue(req.query, 'query');
  if (req.body !== undefined) problems.checkValue(req.body, 'body');
  return problems.list();
}

/** BAD_USER_INPUT raised before execution, answered with HTTP 400 (Apollo would answer 500). */
export class IllFormedTextError extends AppError {
  constructor(problems: FieldProblem[]) {
    super(ErrorCode.BAD_USER_INPUT, 'errors.bad_user_input', {}, problems, 400);
  }
}

/**
 * Refuses every GraphQL operation whose arguments carry ill-formed text before any resolver runs;
 * formatError logs the refusal (warn) with the fields.
 */
export function wellFormedTextPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const problems = operationTextProblems(document, request.variables ?? {});
          if (problems.length) throw new IllFormedTextError(problems);
        },
      };
    },
  };
}

/**
 * The same refusal for a service's plain HTTP routes (file links, webhooks, internal endpoints):
 * 400 with a GraphQL-shaped BAD_USER_INPUT body, logged at warn. `graphqlPath` is left to the
 * plugin, which names arguments rather than body fields.
 */
export function wellFormedTextMiddleware(graphqlPath: string) {
  const logger = new Logger('WellFormedText');
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path === graphqlPath) return next();
    const problems = httpRequestTextProblems(req);
    if (!problems.length) return next();
    const context = RequestContext.current();
    const locale = pickLocale(context?.locales);
    const fields = problems.map((problem) => ({
      field: problem.field,
      message: translate(problem.key, locale),
      constraint: problem.key.replace(/^validation\./, ''),
    }));
    // req.path stays percent-encoded: no raw NUL reaches the log.
    logger.warn({ code: ErrorCode.BAD_USER_INPUT, method: req.method, path: req.path, fields: problems.map((p) => p.field) }, 'rejected input');
    res.status(400).json({
      errors: [{ message: translate('errors.bad_user_input', locale), extensions: { code: ErrorCode.BAD_USER_INPUT, requestId: context?.requestId, fields } }],
    });
  };
}
