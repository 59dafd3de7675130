/**
 * The web client's entry point, bundled into `web/public/app.js` by
 * `deno task bundle`.
 * @module
 */

import { App } from "./app.ts";

new App().start();
