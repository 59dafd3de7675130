/**
 * Sign-in tokens (protocol 2.1): random secrets that a client keeps to sign
 * in again without the password, stored only as their SHA-256 hash. A fast
 * hash is right here: a token is 256 random bits, not a guessable password.
 * @module
 */

import { createHash, randomBytes } from "node:crypto";

/** A token not used for this long (30 days) is dropped. */
export const TOKEN_IDLE_MS = 30 * 24 * 60 * 60 * 1000;

/** Most tokens one user keeps: signing in on more devices drops the least recently used. */
export const TOKENS_PER_USER = 20;

/** Longest token accepted: what {@link newToken} makes is 43 characters. */
export const MAX_TOKEN_LENGTH = 100;

/** A new token: 32 random bytes, base64url without padding. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The hash under which a token is stored: SHA-256, hex. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
