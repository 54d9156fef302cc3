import { ValidationError, ValidationPipe } from '@nestjs/common';
import type { ValidationArguments } from 'class-validator';
import { BadUserInputError, FieldProblem } from './errors';

const KEY_SEPARATOR = '::';

/** Constraints whose default message needs no parameters. */
const FALLBACK_KEYS = new Set(['validation.isEmail', 'validation.isUUID', 'validation.isNotEmpty', 'validation.matches']);

/** Names the positional constraint values of class-validator decorators for the message templates. */
const CONSTRAINT_PARAMS: Record<string, (values: unknown[]) => Record<string, string | number>> = {
  minLength: ([min]) => ({ min: Number(min) }),
  maxLength: ([max]) => ({ max: Number(max) }),
  min: ([min]) => ({ min: Number(min) }),
  max: ([max]) => ({ max: Number(max) }),
  arrayMinSize: ([min]) => ({ min: Number(min) }),
  arrayMaxSize: ([max]) => ({ max: Number(max) }),
};

/**
 * A class-validator `message` option that carries a localizable key and the constraint values,
 * e.g. `@MinLength(2, { message: keyed('validation.minLength') })`.
 */
export function keyed(key: string) {
  return (args: ValidationArguments): string => `${key}${KEY_SEPARATOR}${JSON.stringify(args.constraints ?? [])}`;
}

function problemFor(field: string, constraint: string, message: string): FieldProblem {
  const [key, encoded] = message.split(KEY_SEPARATOR);
  if (key.startsWith('validation.')) {
    const values = encoded === undefined ? [] : (JSON.parse(encoded) as unknown[]);
    return { field, key, params: CONSTRAINT_PARAMS[constraint]?.(values) ?? {} };
  }
  const fallback = `validation.${constraint}`;
  return { field, key: FALLBACK_KEYS.has(fallback) ? fallback : 'validation.invalid' };
}

function collectProblems(errors: ValidationError[], parent: string, out: FieldProblem[]): FieldProblem[] {
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      out.push(problemFor(field, constraint, message));
    }
    if (error.children?.length) collectProblems(error.children, field, out);
  }
  return out;
}

export function validationProblems(errors: ValidationError[]): FieldProblem[] {
  return collectProblems(errors, '', []);
}

/**
 * Validates every resolver argument (class-validator decorators on the input classes) and answers
 * BAD_USER_INPUT with per-field details; unknown fields are refused rather than ignored.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new BadUserInputError(validationProblems(errors)),
  });
}
