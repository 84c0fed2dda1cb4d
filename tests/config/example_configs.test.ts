import assert from "node:assert/strict";
import { loadConfigFile } from "../../src/config/load.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { REPO } from "../_support/mosn.ts";

// Every file in configs/ is loaded here, so an example can never rot.
for (const entry of Deno.readDirSync(REPO + "configs")) {
  if (!entry.isFile || !/\.(json|ya?ml)$/.test(entry.name)) continue;
  Deno.test(`configs/${entry.name} is valid and has no unknown keys`, async () => {
    const { config, warnings } = await loadConfigFile(
      REPO + "configs/" + entry.name,
      PARSE_OPTIONS,
    );
    assert.deepEqual(warnings, []);
    assert.ok((config.servers[0]?.listeners.length ?? 0) > 0);
  });
}

Deno.test("the default config listens on 2045 with the admin API on 34901", async () => {
  const { config } = await loadConfigFile(REPO + "configs/default.json", PARSE_OPTIONS);
  assert.deepEqual(config.servers[0]?.listeners[0]?.address, {
    kind: "tcp",
    host: "127.0.0.1",
    port: 2045,
  });
  assert.deepEqual(config.admin.address, { kind: "tcp", host: "127.0.0.1", port: 34901 });
  assert.ok(Object.isFrozen(config.servers[0]));
});
