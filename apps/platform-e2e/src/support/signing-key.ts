import { createDecipheriv, hkdfSync } from 'node:crypto';
import { Client } from 'pg';
import { CryptoKey, JWK, importJWK } from 'jose';

/** The development default of SIGNING_KEY_SECRET, which the e2e platform runs with. */
export const DEVELOPMENT_SIGNING_KEY_SECRET = 'development-only-signing-key-secret-change-me';

/**
 * Reads the auth service's active private key the way an attacker with database and secret access
 * could (the storage format is `v1.<iv>.<tag>.<ciphertext>`, AES-256-GCM, HKDF-SHA256 key), so tests
 * can mint tokens that are correctly signed yet invalid in another way (expired, wrong audience).
 */
export async function activeSigningKey(databaseUrl: string): Promise<{ kid: string; privateKey: CryptoKey }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ kid: string; private_jwk_encrypted: string }>(
      'SELECT kid, private_jwk_encrypted FROM auth.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
    );
    const [, iv, tag, ciphertext] = rows[0].private_jwk_encrypted.split('.');
    const key = Buffer.from(hkdfSync('sha256', DEVELOPMENT_SIGNING_KEY_SECRET, 'multipult-signing-keys', 'aes-256-gcm', 32));
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const jwk = JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8'),
    ) as JWK;
    return { kid: rows[0].kid, privateKey: (await importJWK(jwk, 'EdDSA')) as CryptoKey };
  } finally {
    await client.end();
  }
}
