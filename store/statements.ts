/**
 * Prepared statements of one SQLite connection, each prepared once and
 * kept: preparing costs more than running most of the store's statements.
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** The prepared statements of one connection, by their SQL. */
export class Statements {
  readonly #db: DatabaseSync;
  readonly #prepared = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** The statement of `sql`, prepared on first use. */
  of(sql: string): StatementSync {
    let statement = this.#prepared.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement;
  }
}
