import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** One key per purpose (`context`), derived from the operator's secret, so one purpose's ciphertexts never open another's. */
function deriveKey(secret: string, context: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, context, 'aes-256-gcm', 32));
}

/**
 * Seals a secret the service must read back (signing keys, webhook secrets) for storage:
 * AES-256-GCM with a random IV, `v1.<iv>.<tag>.<ciphertext>` (base64url).
 */
export function sealSecret(plaintext: string, secret: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret, context), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** Opens what sealSecret sealed with the same secret and context; throws on any tampering. */
export function openSecret(sealed: string, secret: string, context: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION) throw new Error(`unknown sealed secret version ${version}`);
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret, context), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
