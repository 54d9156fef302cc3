import { loadConfig } from '@multipult/config';
import { PRIVACY_PARTICIPANT_NAMES } from '@multipult/registry';
import { authConfigSchema } from './config';

// Settings as auth reads them at start-up.

describe('auth config: sign-in throttle', () => {
  const env = { DATABASE_URL: 'postgres://127.0.0.1/auth' };

  it('defaults to OWASP-style delays: 5 free failures per account and IP, 1 s doubling to 15 min, 50 an hour per account', () => {
    expect(loadConfig(authConfigSchema, env)).toMatchObject({
      LOGIN_FAILURES_BEFORE_DELAY: 5,
      LOGIN_DELAY_BASE_SECONDS: 1,
      LOGIN_DELAY_MAX_SECONDS: 900,
      LOGIN_ACCOUNT_FAILURES_PER_HOUR: 50,
      LOGIN_KNOWN_IP_DAYS: 30,
      LOGIN_MAX_FAILURES_PER_IP: 50,
      LOGIN_IP_BLOCK_SECONDS: 900,
    });
  });

  it('refuses a first delay longer than the cap, and names the replacements of the lockout settings', () => {
    expect(() => loadConfig(authConfigSchema, { ...env, LOGIN_DELAY_BASE_SECONDS: '60', LOGIN_DELAY_MAX_SECONDS: '30' })).toThrow(
      'LOGIN_DELAY_BASE_SECONDS must not exceed LOGIN_DELAY_MAX_SECONDS',
    );
    expect(() => loadConfig(authConfigSchema, { ...env, LOGIN_LOCKOUT_SECONDS: '900' })).toThrow(/LOGIN_LOCKOUT_SECONDS is no longer read: set LOGIN_DELAY_BASE_SECONDS/);
    expect(() => loadConfig(authConfigSchema, { ...env, LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' })).toThrow(/LOGIN_MAX_FAILURES_PER_ACCOUNT is no longer read/);
    expect(() => loadConfig(authConfigSchema, { ...env, LOGIN_FAILURES_BEFORE_DELAY: '0' })).toThrow(/LOGIN_FAILURES_BEFORE_DELAY/);
  });
});

describe('auth config: privacy participants', () => {
  const env = { DATABASE_URL: 'postgres://127.0.0.1/auth' };
  const participants = (value?: string) => loadConfig(authConfigSchema, { ...env, ...(value !== undefined && { PRIVACY_PARTICIPANTS: value }) }).PRIVACY_PARTICIPANTS;

  it('defaults to the registry, lists names, and takes `none` for auth alone', () => {
    expect(participants()).toEqual([...PRIVACY_PARTICIPANT_NAMES]);
    // An empty variable counts as unset, as every variable does (compose's `FOO=`).
    expect(participants('')).toEqual([...PRIVACY_PARTICIPANT_NAMES]);
    expect(participants(' content , notifications ')).toEqual(['content', 'notifications']);
    expect(participants('none')).toEqual([]);
    expect(participants(',')).toEqual([]);
  });

  it('refuses `none` inside a list, where it would name a service that never answers', () => {
    expect(() => participants('none,content')).toThrow(/`none` is the whole value/);
  });
});
