import assert from "node:assert/strict";
import { startAdmin } from "../../src/admin/server.ts";
import { ROUTES } from "../../src/admin/routes.ts";
import { fakeSource } from "./_fake_source.ts";
import { withAdmin } from "./_harness.ts";

Deno.test("the server binds a real port for port 0 and closes more than once", async () => {
  const admin = startAdmin(fakeSource(), { hostname: "127.0.0.1", port: 0 });
  try {
    assert.ok(admin.port > 0);
    assert.equal(admin.hostname, "127.0.0.1");
    const res = await fetch(`http://127.0.0.1:${admin.port}/ready`);
    assert.equal(await res.text(), "LIVE\n");
  } finally {
    await admin.close();
    await admin.close();
  }
});

Deno.test("unknown paths answer 404 JSON", async () => {
  await withAdmin(async ({ get }) => {
    const { res, body } = await get("/api/v1/nope");
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    assert.deepEqual(JSON.parse(body), { error: "no admin endpoint at /api/v1/nope" });
  });
});

Deno.test("read-only endpoints answer 405 to POST with Allow: GET, HEAD", async () => {
  await withAdmin(async ({ get }) => {
    for (const path of ["/api/v1/stats", "/api/v1/config_dump", "/clusters", "/stats/prometheus"]) {
      const { res, body } = await get(path, { method: "POST", body: "{}" });
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get("allow"), "GET, HEAD", path);
      assert.match(JSON.parse(body).error, /POST not allowed/);
    }
  });
});

Deno.test("HEAD is served like GET without a body", async () => {
  await withAdmin(async ({ get }) => {
    const { res, body } = await get("/api/v1/version", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(body, "");
  });
});

Deno.test("a throwing handler answers 500 JSON, is logged, and the server keeps serving", async () => {
  await withAdmin(async ({ src, get }) => {
    src.configError = new Error("config store unavailable");
    const { res, body } = await get("/api/v1/config_dump");
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(body), { error: "internal error: config store unavailable" });
    assert.ok(src.logLines.some((l) => JSON.parse(l).msg === "admin: handler failed"));
    const after = await get("/ready");
    assert.equal(after.res.status, 200);
  });
});

Deno.test("GET /help lists every endpoint", async () => {
  await withAdmin(async ({ get }) => {
    const { res, body } = await get("/help");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    for (const r of ROUTES) {
      if (r.path !== "/" && r.path !== "/help") assert.ok(body.includes(r.path), r.path);
    }
  });
});
