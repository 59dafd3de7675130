/**
 * Private database engines for tests: a PostgreSQL and a Redis of their
 * own, on free ports of 127.0.0.1, with their files in a temporary
 * directory. Each test module that asks starts them once and stops them
 * when it is unloaded. PostgreSQL refuses to run as root, so as root (in
 * CI) it runs as the `postgres` system user the Debian package creates,
 * or as `nobody`. An engine that is not installed makes the tests that
 * need it report themselves ignored, with the reason in their name;
 * `.ci/run` installs both, so in CI they run.
 * @module
 */

/** What `deno task start:postgres` adds to `deno task start` (for `spawnServer`'s denoFlags). */
export const START_POSTGRES_FLAGS = ["--lock=tests/deno.lock", "--frozen", "--allow-env"];

/** Where Debian puts PostgreSQL's programs (not on PATH). */
const POSTGRES_ROOT = "/usr/lib/postgresql";

/** A private PostgreSQL server. */
export interface PostgresEngine {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its data directory. */
  readonly dataDir: string;
  /**
   * A `postgres://` URL of a new empty database (UTF-8, C.UTF-8 character
   * classes unless `options`, more of CREATE DATABASE, say otherwise).
   */
  createDatabase(options?: string): Promise<string>;
  /** Runs SQL (one or more statements) in `database` as the superuser `claptrap`; its output. */
  command(sql: string, database?: string): Promise<string>;
  /** Stops it at once, as a crash would (no checkpoint: it recovers at the next start). */
  crash(): Promise<void>;
  /** Starts it again after {@link PostgresEngine.crash}, on the same port. */
  start(): Promise<void>;
}

/** The pid of an engine's postmaster, whose children are its backends (to count their CPU). */
export async function postmasterPid(engine: PostgresEngine): Promise<number> {
  return Number((await Deno.readTextFile(`${engine.dataDir}/postmaster.pid`)).split("\n")[0]);
}

/** A private Redis server, persisting nothing. */
export interface RedisEngine {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Kills it (SIGKILL), as a crash would. */
  crash(): Promise<void>;
  /** Starts it again after {@link RedisEngine.crash}, on the same port. */
  start(): Promise<void>;
}

/** The directory of the newest PostgreSQL's programs, or null when none is installed. */
function postgresBin(): string | null {
  let versions: number[];
  try {
    versions = [...Deno.readDirSync(POSTGRES_ROOT)]
      .map((entry) => Number(entry.name))
      .filter((v) => Number.isInteger(v));
  } catch {
    return null;
  }
  for (const version of versions.sort((a, b) => b - a)) {
    const bin = `${POSTGRES_ROOT}/${version}/bin`;
    if (isFile(`${bin}/initdb`) && isFile(`${bin}/pg_ctl`)) return bin;
  }
  return null;
}

/** The path of `program` on PATH, or null. */
function onPath(program: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && isFile(`${dir}/${program}`)) return `${dir}/${program}`;
  }
  return null;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const POSTGRES_BIN = postgresBin();
const REDIS_SERVER = onPath("redis-server") ??
  (isFile("/usr/bin/redis-server") ? "/usr/bin/redis-server" : null);

/** Why the PostgreSQL tests cannot run here, or null when they can. */
export const POSTGRES_MISSING: string | null = POSTGRES_BIN === null
  ? `PostgreSQL is not installed (no ${POSTGRES_ROOT}/*/bin/initdb; apt-get install postgresql)`
  : null;

/** Why the Redis tests cannot run here, or null when they can. */
export const REDIS_MISSING: string | null = REDIS_SERVER === null
  ? "Redis is not installed (no redis-server; apt-get install redis-server)"
  : null;

/**
 * Registers a test that needs an engine: ignored, with `missing` in its
 * name, when the engine is not installed.
 */
export function engineTest(
  missing: string | null,
  name: string,
  fn: (t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({
    name: missing === null ? name : `${name} (ignored: ${missing})`,
    ignore: missing !== null,
    fn,
  });
}

/** A free TCP port on 127.0.0.1 (free when asked; taken by the engine right after). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Who runs PostgreSQL: the test's own user unless that is root; as root, a
 * system user (postgres, or nobody). Asked of `id`, which needs no
 * `--allow-sys`.
 */
async function postgresUser(): Promise<string | null> {
  if ((await runCommand("id", ["-u"])).trim() !== "0") return null;
  const passwd = await Deno.readTextFile("/etc/passwd");
  return /^postgres:/m.test(passwd) ? "postgres" : "nobody";
}

/** Runs a program (as `user` when given), and throws with its output when it fails. */
function run(user: string | null, program: string, args: string[]): Promise<string> {
  return runCommand(
    user === null ? program : "runuser",
    user === null ? args : ["-u", user, "--", program, ...args],
  );
}

async function runCommand(program: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C.UTF-8" },
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`${program} ${args.join(" ")} failed: ${text}`);
  return text;
}

/**
 * Runs the shell command `stop` once this process has ended, however it
 * ended: a test run killed (a timeout, Ctrl-C) fires no unload event, and
 * would leave its engines running. A process of its own session, so that
 * it outlives this one and is no child the test sanitizers see.
 */
async function watchdog(stop: string): Promise<void> {
  const { success } = await new Deno.Command("setsid", {
    args: [
      "--fork",
      "sh",
      "-c",
      `while kill -0 ${Deno.pid} 2>/dev/null; do sleep 1; done; ${stop}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  if (!success) throw new Error("cannot start the engines' watchdog (setsid)");
}

let postgres: Promise<PostgresEngine> | null = null;
let redis: Promise<RedisEngine> | null = null;
/** Work to do, synchronously, when the test module is unloaded. */
const cleanups: (() => void)[] = [];

globalThis.addEventListener("unload", () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // the rest still run
    }
  }
});

/**
 * The test module's private PostgreSQL, started on first use: `initdb`
 * into a temporary directory, fsync on, listening on a free port of
 * 127.0.0.1 (password authentication for TCP: user `claptrap`, password
 * `claptrap-pw`) and on a unix socket in that directory.
 */
export function startPostgres(): Promise<PostgresEngine> {
  if (POSTGRES_BIN === null) return Promise.reject(new Error(POSTGRES_MISSING!));
  postgres ??= launchPostgres(POSTGRES_BIN);
  return postgres;
}

async function launchPostgres(bin: string): Promise<PostgresEngine> {
  const user = await postgresUser();
  const root = await Deno.makeTempDir({ prefix: "claptrap-postgres-" });
  const dataDir = `${root}/data`;
  const socketDir = `${root}/socket`;
  await Deno.mkdir(socketDir);
  if (user !== null) await runCommand("chown", ["-R", user, root]);
  const passwordFile = `${root}/password`;
  await Deno.writeTextFile(passwordFile, "claptrap-pw\n");
  if (user !== null) await runCommand("chown", [user, passwordFile]);
  await run(user, `${bin}/initdb`, [
    "--pgdata",
    dataDir,
    "--username",
    "claptrap",
    "--pwfile",
    passwordFile,
    "--auth-local",
    "trust",
    "--auth-host",
    "scram-sha-256",
    "--encoding",
    "UTF8",
    "--locale",
    "C.UTF-8",
    "--no-instructions",
  ]);
  const port = freePort();
  const pgCtl = `${bin}/pg_ctl`;
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${socketDir}`,
    "-c fsync=on",
    "-c max_connections=100",
    "-c shared_buffers=64MB",
  ].join(" ");
  const start = () =>
    run(user, pgCtl, [
      "start",
      "--wait",
      "--pgdata",
      dataDir,
      "--log",
      `${root}/log`,
      "-o",
      options,
    ])
      .then(() => {});
  const stopNow = () =>
    new Deno.Command(user === null ? pgCtl : "runuser", {
      args: [
        ...(user === null ? [] : ["-u", user, "--", pgCtl]),
        "stop",
        "--wait",
        "--mode",
        "immediate",
        "--pgdata",
        dataDir,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
  await start();
  cleanups.push(() => {
    stopNow().outputSync();
    Deno.removeSync(root, { recursive: true });
  });
  await watchdog(
    `${user === null ? "" : `runuser -u ${user} -- `}${pgCtl} stop --mode immediate ` +
      `--pgdata '${dataDir}'; rm -rf '${root}'`,
  );
  const command = (sql: string, database = "postgres") =>
    run(user, `${bin}/psql`, [
      ...["--host", socketDir, "--port", String(port), "--username", "claptrap"],
      ...["--dbname", database, "--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1"],
      ...["--command", sql],
    ]);
  let databases = 0;
  return {
    port,
    dataDir,
    async createDatabase(options = "") {
      const name = `claptrap_${++databases}`;
      await command(`CREATE DATABASE ${name} ${options}`);
      return `postgres://claptrap:claptrap-pw@127.0.0.1:${port}/${name}`;
    },
    command,
    async crash() {
      const output = await stopNow().output();
      if (!output.success) throw new Error("pg_ctl stop failed");
    },
    start,
  };
}

/**
 * The test module's private Redis, started on first use: on a free port of
 * 127.0.0.1, saving nothing to disk.
 */
export function startRedis(): Promise<RedisEngine> {
  if (REDIS_SERVER === null) return Promise.reject(new Error(REDIS_MISSING!));
  redis ??= launchRedis(REDIS_SERVER);
  return redis;
}

async function launchRedis(program: string): Promise<RedisEngine> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "claptrap-redis-" });
  const pidFile = `${dir}/redis.pid`;
  const start = async () => {
    await launch();
    await answering(port);
  };
  const launch = () =>
    runCommand(program, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--daemonize",
      "yes",
      "--pidfile",
      pidFile,
      "--logfile",
      `${dir}/log`,
    ]);
  await launch();
  cleanups.push(() => {
    try {
      Deno.kill(Number(Deno.readTextFileSync(pidFile).trim()), "SIGKILL");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
  await watchdog(`kill -9 "$(cat '${pidFile}')"; rm -rf '${dir}'`);
  await answering(port);
  return {
    port,
    async crash() {
      Deno.kill(Number(await Deno.readTextFile(pidFile)), "SIGKILL");
      // gone once the port refuses
      for (let tries = 0; tries < 100; tries++) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error("redis-server did not stop");
    },
    start,
  };
}

/** Waits until a daemonized engine listens on `port`. */
async function answering(port: number): Promise<void> {
  for (let tries = 0;; tries++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (tries >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
