/**
 * Authenticated encryption (AES-256-GCM) for data that must be kept for a while but
 * never sit in the database in clear, such as a queued mail that holds a reset link.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** GCM's full tag: without authTagLength, Node accepts a tag cut down to 4 bytes and checks only those (forgeable). */
const TAG_BYTES = 16;

export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

export function createSecretBox(secret: string): SecretBox {
  const key = createHash('sha256')
    .update('iryo-portal/outbox/v1\0' + secret)
    .digest();
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
    },
    open(sealed) {
      const [v, iv, tag, body] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format');
      const tagBytes = Buffer.from(tag, 'base64');
      if (tagBytes.length !== TAG_BYTES) throw new Error('sealed value has an authentication tag that is not 16 bytes');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    },
  };
}
