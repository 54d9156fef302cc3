/** A failure the operator can act on: the CLI prints its message as one line, without a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
