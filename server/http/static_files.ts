/**
 * The web client's files, served from memory: the folder is read once at
 * start-up and a request is answered only when its path names one of the
 * files read, so nothing outside the folder can ever be served (no path
 * traversal, no symlinks, no dotfiles). Every answer carries the security
 * headers: a Content-Security-Policy without inline scripts or styles,
 * `nosniff`, no framing, no referrer.
 * @module
 */

/** The Content-Security-Policy of every HTTP answer: only the server's own files. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers sent with every HTTP answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Content types by file extension; other files are `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  woff2: "font/woff2",
};

/** The folder of the web client's files in this project. */
export const WEB_ROOT: URL = new URL("../../web/public/", import.meta.url);

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** A plain-text answer with the security headers. */
export function textResponse(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(text + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}

/** The files of a folder, answering GET and HEAD requests for them. */
export class StaticFiles {
  readonly #files: ReadonlyMap<string, StaticFile>;

  /** Use {@link StaticFiles.load}; `files` maps URL paths to files. */
  constructor(files: ReadonlyMap<string, StaticFile>) {
    this.#files = files;
  }

  /**
   * Reads every regular file under `root` (skipping dotfiles and symbolic
   * links). A missing folder gives an empty set.
   */
  static async load(root: URL = WEB_ROOT): Promise<StaticFiles> {
    const files = new Map<string, StaticFile>();
    try {
      await readFolder(root, "/", files);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const index = files.get("/index.html");
    if (index) files.set("/", index);
    return new StaticFiles(files);
  }

  /** How many files are served (`/` and `/index.html` count once). */
  get size(): number {
    return this.#files.size - (this.#files.has("/") ? 1 : 0);
  }

  /**
   * Answers a request for a file: 200 with the file, 304 when the client's
   * copy is current (`If-None-Match`), 404, or 405 for methods other than
   * GET and HEAD. Every file is sent with `Cache-Control: no-cache` and an
   * `ETag`, so a browser revalidates cheaply and never runs a stale page.
   */
  serve(request: Request): Response {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return textResponse(405, "method not allowed", { Allow: "GET, HEAD" });
    }
    const file = this.#files.get(new URL(request.url).pathname);
    if (!file) return textResponse(404, "not found");
    const headers = {
      ...SECURITY_HEADERS,
      "Content-Type": file.type,
      "Cache-Control": "no-cache",
      ETag: file.etag,
    };
    if (matchesEtag(request.headers.get("If-None-Match"), file.etag)) {
      return new Response(null, { status: 304, headers });
    }
    if (request.method === "HEAD") {
      return new Response(null, {
        headers: { ...headers, "Content-Length": String(file.body.length) },
      });
    }
    return new Response(file.body, { headers });
  }
}

async function readFolder(folder: URL, prefix: string, files: Map<string, StaticFile>) {
  for await (const entry of Deno.readDir(folder)) {
    if (entry.name.startsWith(".") || entry.isSymlink) continue;
    if (entry.isDirectory) {
      await readFolder(new URL(`${entry.name}/`, folder), `${prefix}${entry.name}/`, files);
    } else if (entry.isFile && /^[\w.-]+$/.test(entry.name)) {
      const body = await Deno.readFile(new URL(entry.name, folder));
      const extension = entry.name.slice(entry.name.lastIndexOf(".") + 1).toLowerCase();
      files.set(`${prefix}${entry.name}`, {
        body,
        type: CONTENT_TYPES[extension] ?? "application/octet-stream",
        etag: await etagOf(body),
      });
    }
  }
}

async function etagOf(body: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const hex = [...digest.subarray(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `"${hex}"`;
}

/** Whether an `If-None-Match` header names `etag` (weak or strong, or `*`). */
function matchesEtag(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed === etag || trimmed === `W/${etag}`;
  });
}
