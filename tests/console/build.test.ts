/** The console bundle: self-contained, within budget, served with the right headers. */

import assert from "node:assert/strict";
import { buildConsole, MAX_GZIP_BYTES } from "../../scripts/build_console.ts";
import { startAdmin } from "../../src/admin/server.ts";
import { fakeSource } from "../admin/_fake_source.ts";

Deno.test("the console bundle is self-contained and within 150 KB gzip; the admin serves it", async () => {
  const built = await buildConsole();
  assert.ok(built.gzipBytes <= MAX_GZIP_BYTES, `${built.gzipBytes} bytes gzip`);
  const dist = new URL("../../console/dist/", import.meta.url);
  const html = await Deno.readTextFile(new URL("index.html", dist));
  assert.ok(html.includes(`/assets/${built.js}`) && html.includes(`/assets/${built.css}`));
  // Nothing loaded from elsewhere: no absolute URLs in markup, styles or module imports.
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  const css = await Deno.readTextFile(new URL(`assets/${built.css}`, dist));
  assert.doesNotMatch(css, /url\(|@import/);
  const js = await Deno.readTextFile(new URL(`assets/${built.js}`, dist));
  assert.doesNotMatch(js, /\bimport\s*\(?\s*["']https?:/);

  const src = fakeSource();
  src.connections = () => [];
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 });
  try {
    const base = `http://127.0.0.1:${admin.port}`;
    const page = await fetch(base + "/");
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.equal(page.headers.get("cache-control"), "no-cache");
    assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
    assert.equal(await page.text(), html);
    const asset = await fetch(`${base}/assets/${built.js}`, {
      headers: { "accept-encoding": "gzip" },
    });
    assert.match(asset.headers.get("content-type")!, /^text\/javascript/);
    assert.match(asset.headers.get("cache-control")!, /immutable/);
    assert.equal(await asset.text(), js); // fetch decodes the gzip body
    const etag = asset.headers.get("etag")!;
    const again = await fetch(`${base}/assets/${built.js}`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    await again.body?.cancel();
    const missing = await fetch(`${base}/assets/nope.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await admin.close();
  }
});
