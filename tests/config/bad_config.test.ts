// deno-lint-ignore-file no-explicit-any -- test documents are built by mutating loose JSON
import assert from "node:assert/strict";
import { MAIN } from "../_support/mosn.ts";
import { freePort } from "../_support/net.ts";

function baseDoc(): Record<string, any> {
  return {
    servers: [{
      listeners: [{
        name: "l1",
        address: "127.0.0.1:0",
        filter_chains: [{ filters: [{ type: "tcp_proxy", config: { cluster: "c1" } }] }],
      }],
    }],
    cluster_manager: {
      clusters: [{
        name: "c1",
        type: "SIMPLE",
        lb_type: "LB_RANDOM",
        hosts: [{ address: "127.0.0.1:9" }],
      }],
    },
  };
}

async function run(cmd: "validate" | "start", text: string, ext = "json") {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/c.${ext}`;
  await Deno.writeTextFile(file, text);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, cmd, "-c", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const cases: { name: string; text: () => string; ext?: string; path: string; reason: RegExp }[] = [
  {
    name: "unknown cluster reference",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].filter_chains[0].filters[0].config.cluster = "nope";
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[0].filter_chains[0].filters[0].config.cluster",
    reason: /unknown cluster "nope"/,
  },
  {
    name: "bad listener address",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].address = "localhost";
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[0].address",
    reason: /expected "ip:port", got "localhost"/,
  },
  {
    name: "duplicate listener name",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners.push({ ...d.servers[0].listeners[0], address: "127.0.0.1:1" });
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[1].name",
    reason: /duplicate listener name "l1"/,
  },
  {
    name: "bad duration",
    text: () => {
      const d = baseDoc();
      d.servers[0].graceful_timeout = "30 seconds";
      return JSON.stringify(d);
    },
    path: "servers[0].graceful_timeout",
    reason: /expected a duration/,
  },
  {
    name: "not JSON",
    text: () => '{"servers": [',
    path: "$",
    reason: /not valid JSON/,
  },
  {
    name: "not YAML",
    text: () => "servers:\n  - listeners: [\n bad: : :",
    ext: "yaml",
    path: "$",
    reason: /not valid YAML/,
  },
  {
    name: "missing servers",
    text: () => JSON.stringify({ cluster_manager: { clusters: [] } }),
    path: "servers",
    reason: /is required/,
  },
  {
    name: "unknown lb_type",
    text: () => {
      const d = baseDoc();
      d.cluster_manager.clusters[0].lb_type = "LB_FASTEST";
      return JSON.stringify(d);
    },
    path: "cluster_manager.clusters[0].lb_type",
    reason: /expected one of .*got "LB_FASTEST"/,
  },
  {
    name: "port out of range",
    text: () => {
      const d = baseDoc();
      d.cluster_manager.clusters[0].hosts[0].address = "127.0.0.1:70000";
      return JSON.stringify(d);
    },
    path: "cluster_manager.clusters[0].hosts[0].address",
    reason: /port out of range/,
  },
  {
    name: "unknown network filter type",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].filter_chains[0].filters[0].type = "teleport";
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[0].filter_chains[0].filters[0].type",
    reason: /unknown network filter "teleport"/,
  },
  {
    name: "duplicate cluster name",
    text: () => {
      const d = baseDoc();
      d.cluster_manager.clusters.push(d.cluster_manager.clusters[0]);
      return JSON.stringify(d);
    },
    path: "cluster_manager.clusters[1].name",
    reason: /duplicate cluster name "c1"/,
  },
  {
    name: "weight out of range",
    text: () => {
      const d = baseDoc();
      d.cluster_manager.clusters[0].hosts[0].weight = 0;
      return JSON.stringify(d);
    },
    path: "cluster_manager.clusters[0].hosts[0].weight",
    reason: /out of range 1-128, got 0/,
  },
  {
    name: "wrong type for a number",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].filter_chains[0].filters[0].config.max_connect_attempts = "3";
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[0].filter_chains[0].filters[0].config.max_connect_attempts",
    reason: /expected an integer, got "3"/,
  },
  {
    name: "unknown log level",
    text: () => {
      const d = baseDoc();
      d.servers[0].default_log_level = "LOUD";
      return JSON.stringify(d);
    },
    path: "servers[0].default_log_level",
    reason: /expected a log level/,
  },
  {
    name: "two listeners on one address",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].address = "127.0.0.1:2999";
      d.servers[0].listeners.push({ ...d.servers[0].listeners[0], name: "l2" });
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[1].address",
    reason: /already used by servers\[0\]\.listeners\[0\]\.address/,
  },
  {
    name: "filter chain without filters",
    text: () => {
      const d = baseDoc();
      d.servers[0].listeners[0].filter_chains[0].filters = [];
      return JSON.stringify(d);
    },
    path: "servers[0].listeners[0].filter_chains[0].filters",
    reason: /at least one network filter/,
  },
];

for (const c of cases) {
  Deno.test(`config: ${c.name} exits 2 naming ${c.path}`, async () => {
    const { code, stderr } = await run("validate", c.text(), c.ext);
    assert.equal(code, 2, stderr);
    const line = stderr.split("\n").find((l) => l.trim().startsWith(`${c.path}:`));
    assert.ok(line, `no line for ${c.path} in:\n${stderr}`);
    assert.match(line, c.reason);
  });
}

Deno.test("config: an invalid config given to start binds nothing and exits 2", async () => {
  const port = freePort();
  const d = baseDoc();
  d.servers[0].listeners[0].address = `127.0.0.1:${port}`;
  d.servers[0].listeners.push({ ...d.servers[0].listeners[0], name: "l2", address: "nowhere" });
  const { code, stderr } = await run("start", JSON.stringify(d));
  assert.equal(code, 2);
  assert.match(stderr, /servers\[0\]\.listeners\[1\]\.address: expected "ip:port", got "nowhere"/);
  // The valid listener was never bound: the port is still free.
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  l.close();
});

Deno.test("config: keys match case-insensitively and unknown keys only warn", async () => {
  const d = baseDoc();
  d.servers[0].Listeners = d.servers[0].listeners;
  delete d.servers[0].listeners;
  d.servers[0].Listeners[0].Connection_Idle_Timeout = "10s";
  d.servers[0].Listeners[0].shiny_new_option = true;
  const { code, stderr } = await run("validate", JSON.stringify(d));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /unknown key, ignored/);
  assert.match(stderr, /shiny_new_option/);
});
