import assert from "node:assert/strict";
import { DEFAULT_LIVENESS_RULES, Liveness } from "./liveness.ts";

Deno.test("a quiet client is neither pinged nor closed for silence, but must log in", () => {
  const rules = DEFAULT_LIVENESS_RULES;
  const liveness = new Liveness(0);
  const quiet = { push: true, loggedIn: true, partialSince: null, quiet: true };
  assert.equal(liveness.due(rules.idleLimit * 10, rules, quiet), null);
  assert.deepEqual(liveness.due(rules.idleLimit * 10, rules, { ...quiet, quiet: false }), {
    close: "idle timeout: nothing received for 1200 s",
  });
  const anonymous = new Liveness(0);
  assert.deepEqual(anonymous.due(rules.loginTimeout, rules, { ...quiet, loggedIn: false }), {
    close: "login timeout: not logged in after 60 s",
  });
});
