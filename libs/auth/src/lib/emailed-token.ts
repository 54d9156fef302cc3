import { openSecret, sealSecret } from './secret-box';

/**
 * One-time tokens of emailed links travel in events sealed for the notifications service, which
 * alone opens them to build the link: Kafka, the outbox and logs only ever hold the seal. The
 * event type is part of the key's purpose, so a token sealed for one kind of email opens in no other.
 */
export function sealEmailedToken(token: string, key: string, eventType: string): string {
  return sealSecret(token, key, `emailed-token:${eventType}`);
}

export function openEmailedToken(sealedToken: string, key: string, eventType: string): string {
  return openSecret(sealedToken, key, `emailed-token:${eventType}`);
}
