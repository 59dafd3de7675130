import assert from "node:assert/strict";
import {
  engineTest,
  POSTGRES_MISSING,
  REDIS_MISSING,
  startPostgres,
  startRedis,
} from "./engines.ts";
import { connect } from "../store/postgres/connection.ts";

engineTest(
  POSTGRES_MISSING,
  "the private PostgreSQL answers on its port, with fsync on and a UTF-8 database",
  async () => {
    const engine = await startPostgres();
    const sql = connect(await engine.createDatabase(), 1);
    const [row] = await sql.unsafe(
      `SELECT current_setting('fsync') AS fsync, current_setting('port') AS port,
       current_setting('listen_addresses') AS listen, current_setting('lc_ctype') AS ctype`,
    );
    assert.deepEqual(row, {
      fsync: "on",
      port: String(engine.port),
      listen: "127.0.0.1",
      ctype: "C.UTF-8",
    });
    await sql.end();
  },
);

engineTest(
  REDIS_MISSING,
  "the private Redis answers PING on its port and saves nothing",
  async () => {
    const { port } = await startRedis();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\nCONFIG GET save\r\n"));
    let text = "";
    const buffer = new Uint8Array(1024);
    while (!text.includes("save\r\n$0\r\n\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    conn.close();
    assert.match(text, /^\+PONG\r\n/);
    assert.match(text, /save\r\n\$0\r\n\r\n$/);
  },
);
