/**
 * Admin access control, through a real server. A non-loopback bind is tested by binding the
 * admin to 0.0.0.0 and connecting through 127.0.0.1: the rule depends on the bind address, not
 * on where a request comes from.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/parse.ts";
import { PARSE_OPTIONS } from "../../src/server/parse_options.ts";
import { ConfigError } from "../../src/common/errors.ts";
import { httpDoc, rawExchange } from "../_support/http.ts";
import { startInProcess } from "../_support/mosn.ts";

const TOKEN = "s3cret-admin-token";

function doc(address: string, token?: string): Record<string, unknown> {
  const d = httpDoc({
    routers: [{ router_config_name: "r1", virtual_hosts: [] }],
    clusters: [{ name: "c1", hosts: [{ address: "127.0.0.1:9" }] }],
  });
  d.admin = {
    address: { socket_address: { address, port_value: 0 } },
    ...(token ? { token } : {}),
  };
  return d;
}

async function call(
  port: number,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: res.status, body: await res.text() };
}

const LEVEL = { method: "POST", body: JSON.stringify({ log_level: "ERROR" }) };

Deno.test("non-loopback admin without a token refuses API calls and mutations; /ready and / stay open", async () => {
  const server = startInProcess(doc("0.0.0.0"), { admin: true });
  try {
    const port = server.adminPort;
    for (const path of ["/api/v1/stats", "/api/v1/overview", "/api/v1/connections", "/clusters"]) {
      const r = await call(port, path);
      assert.equal(r.status, 403, path);
      assert.match(JSON.parse(r.body).error, /not loopback: configure admin\.token/);
    }
    const post = await call(port, "/api/v1/update_loglevel", LEVEL);
    assert.equal(post.status, 403);
    // Even a presented token does not help when none is configured.
    const guessed = await call(port, "/api/v1/stats", { headers: { authorization: "Bearer x" } });
    assert.equal(guessed.status, 403);
    assert.equal((await call(port, "/ready")).status, 200);
    assert.equal((await call(port, "/")).status, 200);
  } finally {
    await server.stop("fast");
  }
});

Deno.test("non-loopback admin with a token: 401 without or with a wrong one, 200 with it", async () => {
  const server = startInProcess(doc("0.0.0.0", TOKEN), { admin: true });
  try {
    const port = server.adminPort;
    const none = await call(port, "/api/v1/stats");
    assert.equal(none.status, 401);
    const wrong = await call(port, "/api/v1/stats", {
      headers: { authorization: "Bearer nope-nope-nope" },
    });
    assert.equal(wrong.status, 401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await call(port, "/api/v1/stats", { headers: auth })).status, 200);
    assert.equal((await call(port, "/api/v1/routes", { headers: auth })).status, 200);
    assert.equal((await call(port, "/api/v1/update_loglevel", LEVEL)).status, 401);
    const ok = await call(port, "/api/v1/update_loglevel", { ...LEVEL, headers: auth });
    assert.equal(ok.status, 200, ok.body);
    // A token also passes the cross-site check (browsers never attach it by themselves).
    const cross = await call(port, "/api/v1/update_loglevel", {
      ...LEVEL,
      headers: { ...auth, origin: "http://evil.example", "sec-fetch-site": "cross-site" },
    });
    assert.equal(cross.status, 200);
  } finally {
    await server.stop("fast");
  }
});

Deno.test("loopback admin without a token: reads open; cross-site POST and foreign Host refused", async () => {
  const server = startInProcess(doc("127.0.0.1"), { admin: true });
  try {
    const port = server.adminPort;
    assert.equal((await call(port, "/api/v1/stats")).status, 200);
    // curl-like (no browser headers) and same-origin browser POSTs pass.
    assert.equal((await call(port, "/api/v1/update_loglevel", LEVEL)).status, 200);
    const same = await call(port, "/api/v1/update_loglevel", {
      ...LEVEL,
      headers: { origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin" },
    });
    assert.equal(same.status, 200);
    const fromSite = await call(port, "/api/v1/update_loglevel", {
      ...LEVEL,
      headers: { "sec-fetch-site": "cross-site" },
    });
    assert.equal(fromSite.status, 403);
    assert.match(JSON.parse(fromSite.body).error, /cross-site POST refused/);
    const fromOrigin = await call(port, "/api/v1/update_loglevel", {
      ...LEVEL,
      headers: { origin: "http://evil.example" },
    });
    assert.equal(fromOrigin.status, 403);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    // (fetch cannot set Host; a raw request can.)
    const rebound = await rawExchange(
      port,
      "GET /api/v1/stats HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert.match(rebound, /^HTTP\/1\.1 403/);
    assert.match(rebound, /Host evil\.example is not a loopback name/);
  } finally {
    await server.stop("fast");
  }
});

Deno.test("a loopback admin with a token asks for it too", async () => {
  const server = startInProcess(doc("127.0.0.1", TOKEN), { admin: true });
  try {
    const port = server.adminPort;
    assert.equal((await call(port, "/api/v1/stats")).status, 401);
    const ok = await call(port, "/api/v1/stats", { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  } finally {
    await server.stop("fast");
  }
});

Deno.test("admin.token shorter than 8 characters is refused with its JSON path", () => {
  assert.throws(
    () => parseConfig(doc("127.0.0.1", "short"), PARSE_OPTIONS),
    (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === "admin.token"),
  );
});
