import { Command, CommanderError } from 'commander';
import { createProgram } from './program';

interface Run {
  stdout: string;
  stderr: string;
  error?: CommanderError;
}

/** Parses like the real CLI, with commander's exits and output captured instead. */
async function run(args: string[]): Promise<Run> {
  const program = createProgram(() => undefined);
  const result: Run = { stdout: '', stderr: '' };
  const capture = (command: Command) => {
    command.exitOverride().configureOutput({
      writeOut: (text) => (result.stdout += text),
      writeErr: (text) => (result.stderr += text),
    });
    command.commands.forEach(capture);
  };
  capture(program);
  try {
    await program.parseAsync(['node', 'multipult', ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    result.error = error;
  }
  return result;
}

describe('multipult CLI', () => {
  it('lists every command in its help', async () => {
    const { stdout, error } = await run(['--help']);
    expect(error?.code).toBe('commander.helpDisplayed');
    for (const command of ['user', 'role', 'seed', 'backup', 'restore', 'search', 'dlq', 'keys', 'announce']) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it.each([
    [['user', 'create'], ['--email <email>', '--password <password>', '--display-name <name>', '--username <handle>', '--platform-role <role...>', 'platform_admin']],
    [['role', 'grant'], ['<email>', '<role>', 'platform_admin', 'support', 'auditor']],
    [['seed', 'demo'], ['--users <n>', '--documents <n>', 'default: 6', 'default: 12']],
    [['backup'], ['--out <dir>', '--service <name...>', 'verify']],
    [['backup', 'verify'], ['--from <dir>']],
    [['restore'], ['--from <dir>', '--service <name...>', '"auth"']],
    [['search', 'reindex'], ['Recompute the search data']],
    [['dlq', 'inspect'], ['<topic>', 'without consuming them']],
    [['dlq', 'replay'], ['<topic>', '--limit <n>']],
    [['keys', 'rotate'], ['signing key']],
    [['announce'], ['--title <title>', '--body <body>', '--tenant <tenant id>']],
  ])('%j --help names its arguments and options', async (command, expected) => {
    const { stdout, error } = await run([...command, '--help']);
    expect(error?.code).toBe('commander.helpDisplayed');
    expect(stdout).toContain(`Usage: multipult ${command.join(' ')}`);
    for (const text of expected) expect(stdout).toContain(text);
  });

  it.each([
    [['user', 'create', '--email', 'a@example.com', '--password', 'x y z 1 2 3 4'], "required option '--display-name <name>' not specified"],
    [['user', 'create', '--email', 'a@example.com', '--password', 'p', '--display-name', 'A', '--platform-role', 'owner'], "'owner' is invalid"],
    [['role', 'grant', 'a@example.com', 'king'], "value 'king' is invalid for argument 'role'"],
    [['seed', 'demo', '--users', '0'], 'must be a whole number of at least 1'],
    [['seed', 'demo', '--documents', 'many'], 'must be a whole number of at least 0'],
    [['restore', '--from', '/tmp/x', '--service', 'billing'], "'billing' is invalid"],
    [['dlq', 'replay'], "missing required argument 'topic'"],
    [['dlq', 'replay', 'auth.user.v1', '--limit', '0'], 'must be a whole number of at least 1'],
    [['announce', '--title', ' ', '--body', 'b'], 'must be 1 to 200 characters'],
    [['announce', '--title', 't', '--body', 'b', '--tenant', 'acme'], 'must be a tenant id (UUID)'],
    [['rotate'], "unknown command 'rotate' (Did you mean role?)"],
  ])('%j is refused with one line on stderr', async (args, message) => {
    const { stderr, error } = await run(args);
    expect(error?.exitCode).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).toMatch(/^multipult: /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a command without its configuration in one line naming the variable', async () => {
    const saved = { ...process.env };
    delete process.env.GATEWAY_URL;
    delete process.env.KAFKA_BROKERS;
    try {
      await expect(run(['seed', 'demo'])).rejects.toThrow('Invalid configuration: GATEWAY_URL is required');
      await expect(run(['dlq', 'inspect', 'auth.user.v1'])).rejects.toThrow('Invalid configuration: KAFKA_BROKERS is required');
      process.env.GATEWAY_URL = 'ftp://gateway';
      await expect(run(['seed', 'demo'])).rejects.toThrow('GATEWAY_URL must be a URL starting with http:// or https://');
    } finally {
      process.env = saved;
    }
  });

  it('names an unreachable database at once', async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://operator:secret@127.0.0.1:1/platform';
    try {
      await expect(run(['keys', 'rotate'])).rejects.toThrow('cannot reach the database at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    } finally {
      process.env.DATABASE_URL = saved;
    }
  });

  it('asks for --out when backing up', async () => {
    await expect(run(['backup'])).rejects.toThrow('backup needs --out <dir>');
  });
});
