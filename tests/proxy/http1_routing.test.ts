import assert from "node:assert/strict";
import { startInProcess } from "../_support/mosn.ts";
import { httpDoc, origin, readResponse, simpleRouter } from "../_support/http.ts";
import { writeAll } from "../_support/net.ts";

/** An origin that describes what it received, as JSON. */
function echoOrigin(name: string) {
  return origin((req) => {
    const u = new URL(req.url);
    return Response.json({
      name,
      method: req.method,
      path: u.pathname + u.search,
      host: req.headers.get("host"),
      headers: Object.fromEntries(req.headers),
    }, { headers: { "x-origin": name, "x-remove-me": "1" } });
  });
}

/** A GET over a raw socket, so that Host can be set (fetch forbids it). */
async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const h = { host: `127.0.0.1:${port}`, ...headers };
    let text = `GET ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(h)) text += `${k}: ${v}\r\n`;
    await writeAll(c, new TextEncoder().encode(text + "\r\n"));
    const r = await readResponse(c, { buf: new Uint8Array(0) });
    // deno-lint-ignore no-explicit-any -- test reads loose JSON
    let json: Record<string, any> | undefined;
    try {
      json = JSON.parse(r.body);
    } catch { /* not JSON */ }
    return { status: r.status, headers: new Headers(r.headers), text: r.body, json };
  } finally {
    c.close();
  }
}

Deno.test("http1 routing: virtual hosts, matchers, rewrites, header mutations, direct response, redirect", async (t) => {
  const a = echoOrigin("a");
  const b = echoOrigin("b");
  const doc = httpDoc({
    clusters: [{ name: "a", hosts: [{ address: a.address }] }, {
      name: "b",
      hosts: [{ address: b.address }],
    }],
    routers: [{
      router_config_name: "r1",
      request_headers_to_add: [{ header: { key: "x-router", value: "r1" }, append: false }],
      response_headers_to_remove: ["x-remove-me"],
      virtual_hosts: [
        {
          name: "api",
          domains: ["api.test", "*.api.test"],
          request_headers_to_add: [{ header: { key: "x-vhost", value: "api" }, append: false }],
          routers: [
            { match: { prefix: "/v2/" }, route: { cluster_name: "b", prefix_rewrite: "/" } },
            { match: { prefix: "/" }, route: { cluster_name: "a" } },
          ],
        },
        {
          name: "default",
          domains: ["*"],
          routers: [
            { match: { path: "/Exact" }, route: { cluster_name: "b" } },
            {
              match: { regex: "^/re/[0-9]+$" },
              route: {
                cluster_name: "b",
                regex_rewrite: { pattern: { regex: "^/re/([0-9]+)$" }, substitution: "/num/\\1" },
              },
            },
            {
              match: { prefix: "/hdr", headers: [{ name: "x-canary", value: "yes" }] },
              route: { cluster_name: "b" },
            },
            {
              match: { prefix: "/q", query_parameters: [{ name: "v", value: "2" }] },
              route: { cluster_name: "b" },
            },
            {
              match: { prefix: "/host" },
              route: { cluster_name: "a", host_rewrite: "rewritten.test" },
            },
            { match: { prefix: "/direct" }, direct_response: { status: 418, body: "teapot\n" } },
            {
              match: { prefix: "/old/" },
              redirect: { prefix_rewrite: "/new/", response_code: 302 },
            },
            {
              match: { prefix: "/" },
              route: {
                cluster_name: "a",
                request_headers_to_add: [{
                  header: { key: "x-route", value: "catchall" },
                  append: false,
                }],
                request_headers_to_remove: ["x-secret"],
                response_headers_to_add: [{
                  header: { key: "x-resp", value: "added" },
                  append: false,
                }],
              },
            },
          ],
        },
      ],
    }],
  });
  const mosn = startInProcess(doc);
  const port = mosn.listenerPort("http");
  try {
    await t.step("virtual host by Host, prefix rewrite", async () => {
      const r = await get(port, "/v2/items?x=1", { host: "api.test" });
      assert.equal(r.json?.name, "b");
      assert.equal(r.json?.path, "/items?x=1");
      assert.equal(r.json?.headers["x-vhost"], "api");
      assert.equal(r.json?.headers["x-router"], "r1");
      const w = await get(port, "/x", { host: "deep.api.test" });
      assert.equal(w.json?.name, "a");
    });
    await t.step("path match is case-insensitive, prefix is not", async () => {
      assert.equal((await get(port, "/exact")).json?.name, "b");
      assert.equal((await get(port, "/EXACT")).json?.name, "b");
    });
    await t.step("regex match and regex rewrite", async () => {
      const r = await get(port, "/re/42");
      assert.equal(r.json?.name, "b");
      assert.equal(r.json?.path, "/num/42");
      assert.equal((await get(port, "/re/x")).json?.name, "a");
    });
    await t.step("header and query parameter matchers", async () => {
      assert.equal((await get(port, "/hdr", { "x-canary": "yes" })).json?.name, "b");
      assert.equal((await get(port, "/hdr", { "x-canary": "no" })).json?.name, "a");
      assert.equal((await get(port, "/q?v=2")).json?.name, "b");
      assert.equal((await get(port, "/q?v=3")).json?.name, "a");
    });
    await t.step("host rewrite", async () => {
      assert.equal((await get(port, "/host")).json?.host, "rewritten.test");
    });
    await t.step("request and response header mutations at every level", async () => {
      const r = await get(port, "/anything", { "x-secret": "s3cret" });
      assert.equal(r.json?.headers["x-route"], "catchall");
      assert.equal(r.json?.headers["x-router"], "r1");
      assert.equal(r.json?.headers["x-secret"], undefined);
      assert.equal(r.headers.get("x-resp"), "added");
      assert.equal(r.headers.get("x-remove-me"), null);
      assert.equal(r.headers.get("x-origin"), "a");
    });
    await t.step("direct response", async () => {
      const r = await get(port, "/direct");
      assert.equal(r.status, 418);
      assert.equal(r.text, "teapot\n");
    });
    await t.step("redirect", async () => {
      const r = await get(port, "/old/page?z=1", { host: "site.test" });
      assert.equal(r.status, 302);
      assert.equal(r.headers.get("location"), "http://site.test/new/page?z=1");
    });
  } finally {
    await mosn.stop("fast");
    await a.close();
    await b.close();
  }
});

Deno.test("http1 routing: no route is 404, unknown cluster host set is 502", async () => {
  const a = echoOrigin("a");
  const doc = httpDoc({
    clusters: [{ name: "a", hosts: [{ address: a.address }] }, { name: "empty", hosts: [] }],
    routers: [{
      router_config_name: "r1",
      virtual_hosts: [{
        name: "only",
        domains: ["only.test"],
        routers: [
          { match: { prefix: "/empty" }, route: { cluster_name: "empty" } },
          { match: { prefix: "/" }, route: { cluster_name: "a" } },
        ],
      }],
    }],
  });
  const mosn = startInProcess(doc);
  const port = mosn.listenerPort("http");
  try {
    assert.equal((await get(port, "/", { host: "other.test" })).status, 404);
    assert.equal((await get(port, "/", { host: "only.test" })).status, 200);
    assert.equal((await get(port, "/empty", { host: "only.test" })).status, 502);
  } finally {
    await mosn.stop("fast");
    await a.close();
  }
});

Deno.test("http1 routing: weighted clusters split 80/20 within ±5%", async () => {
  const a = echoOrigin("a");
  const b = echoOrigin("b");
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "a", hosts: [{ address: a.address }] }, {
      name: "b",
      hosts: [{ address: b.address }],
    }],
    routers: [simpleRouter([{
      match: { prefix: "/" },
      route: {
        weighted_clusters: [{ cluster: { name: "a", weight: 80 } }, {
          cluster: { name: "b", weight: 20 },
        }],
      },
    }])],
  }));
  try {
    const port = mosn.listenerPort("http");
    let na = 0;
    for (let i = 0; i < 1000; i++) if ((await get(port, "/")).json?.name === "a") na++;
    assert.ok(na >= 750 && na <= 850, `a got ${na} of 1000`);
  } finally {
    await mosn.stop("fast");
    await a.close();
    await b.close();
  }
});

Deno.test("http1 routing: route timeout 300 ms against a 1 s upstream answers 504 after 300 ms, before the upstream", async () => {
  const slow = origin(async () => {
    await new Promise((r) => setTimeout(r, 1000));
    return new Response("late");
  });
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "s", hosts: [{ address: slow.address }] }],
    routers: [
      simpleRouter([{ match: { prefix: "/" }, route: { cluster_name: "s", timeout: "300ms" } }]),
    ],
  }));
  try {
    const port = mosn.listenerPort("http");
    const t0 = performance.now();
    const r = await get(port, "/");
    const took = performance.now() - t0;
    assert.equal(r.status, 504);
    // Well before the upstream's 1 s (a tight upper bound flakes on a loaded machine).
    assert.ok(took >= 300 && took < 900, `took ${took.toFixed(0)} ms`);
    // x-mosn-global-timeout overrides the route's timeout per request.
    const t1 = performance.now();
    assert.equal((await get(port, "/", { "x-mosn-global-timeout": "100" })).status, 504);
    assert.ok(performance.now() - t1 < 290);
  } finally {
    await mosn.stop("fast");
    await new Promise((r) => setTimeout(r, 1100)); // let the slow handlers finish
    await slow.close();
  }
});

Deno.test("http1 routing: header matchers (regex, present, invert) through real sockets", async () => {
  const a = echoOrigin("a");
  const b = echoOrigin("b");
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "a", hosts: [{ address: a.address }] }, {
      name: "b",
      hosts: [{ address: b.address }],
    }],
    routers: [simpleRouter([
      {
        match: { prefix: "/re", headers: [{ name: "x-ver", value: "v[0-9]+", regex: true }] },
        route: { cluster_name: "b" },
      },
      {
        match: { prefix: "/present", headers: [{ name: "x-debug", present: true }] },
        route: { cluster_name: "b" },
      },
      {
        match: { prefix: "/invert", headers: [{ name: "x-env", value: "prod", invert: true }] },
        route: { cluster_name: "b" },
      },
      { match: { prefix: "/" }, route: { cluster_name: "a" } },
    ])],
  }));
  const port = mosn.listenerPort("http");
  try {
    assert.equal((await get(port, "/re", { "x-ver": "v12" })).json?.name, "b");
    assert.equal((await get(port, "/re", { "x-ver": "v12x" })).json?.name, "a"); // full match
    assert.equal((await get(port, "/present", { "x-debug": "" })).json?.name, "b");
    assert.equal((await get(port, "/present")).json?.name, "a");
    assert.equal((await get(port, "/invert", { "x-env": "staging" })).json?.name, "b");
    assert.equal((await get(port, "/invert", { "x-env": "prod" })).json?.name, "a");
  } finally {
    await mosn.stop("fast");
    await a.close();
    await b.close();
  }
});

Deno.test("http1 routing: x-mosn-try-timeout retries a slow try; connect failures answer 502 after the retries", async () => {
  let calls = 0;
  const slowOnce = origin(async () => {
    if (calls++ === 0) await new Promise((r) => setTimeout(r, 500));
    return new Response("second try");
  });
  const dead = `127.0.0.1:${
    (() => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const p = (l.addr as Deno.NetAddr).port;
      l.close();
      return p;
    })()
  }`;
  const mosn = startInProcess(httpDoc({
    clusters: [{ name: "s", hosts: [{ address: slowOnce.address }] }, {
      name: "dead",
      hosts: [{ address: dead }],
    }],
    routers: [simpleRouter([
      {
        match: { prefix: "/dead" },
        route: { cluster_name: "dead", retry_policy: { retry_on: true, num_retries: 2 } },
      },
      {
        match: { prefix: "/" },
        route: { cluster_name: "s", retry_policy: { retry_on: true, num_retries: 2 } },
      },
    ])],
  }));
  const port = mosn.listenerPort("http");
  try {
    const t0 = performance.now();
    const r = await get(port, "/", { "x-mosn-try-timeout": "100" });
    assert.equal(r.status, 200);
    assert.equal(r.text, "second try");
    assert.ok(performance.now() - t0 < 450, "the first try was cut at ~100 ms");
    const d = await get(port, "/dead");
    assert.equal(d.status, 502);
    const up = [...mosn.stats.scopes()].find((s) =>
      s.type === "upstream" && s.labels.cluster === "dead" && !s.labels.host
    )!;
    assert.equal(up.counter("connection_con_fail").value, 3, "one try and two retries");
  } finally {
    await mosn.stop("fast");
    await new Promise((r) => setTimeout(r, 500));
    await slowOnce.close();
  }
});
