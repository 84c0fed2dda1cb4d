import assert from "node:assert/strict";
import { assertPortFree, steerAddress, unsteerAddress } from "../../src/network/reuseport.ts";
import { Listener } from "../../src/network/listener.ts";
import { freePort } from "../_support/net.ts";

/** Accepts on `l` until closed, counting connections. */
function count(l: Deno.Listener): { n: number; done: Promise<void> } {
  const c = { n: 0, done: Promise.resolve() };
  c.done = (async () => {
    try {
      for await (const conn of l) {
        c.n++;
        conn.close();
      }
    } catch { /* closed */ }
  })();
  return c;
}

Deno.test("reuseport: a steering program sends every new connection of the group to socket 1", async () => {
  const port = freePort();
  const first = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
  const second = Deno.listen({ hostname: "127.0.0.1", port, reusePort: true });
  const [a, b] = [count(first), count(second)];
  try {
    assert.ok(steerAddress("127.0.0.1", port, 1) >= 1, "attached (needs --allow-ffi)");
    for (let i = 0; i < 40; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.read(new Uint8Array(1)).catch(() => null);
      c.close();
    }
    assert.equal(a.n, 0, "the old socket gets nothing");
    assert.equal(b.n, 40);
    assert.ok(unsteerAddress("127.0.0.1", port) >= 1, "detached");
  } finally {
    first.close();
    second.close();
    await Promise.all([a.done, b.done]);
  }
});

Deno.test("reuseport: listeners share a port only when told to (an upgrade); otherwise a taken port is refused", () => {
  const port = freePort();
  const onAccept = (c: Deno.Conn) => c.close();
  const addr = { kind: "tcp" as const, host: "127.0.0.1", port };
  const a = new Listener("a", addr, onAccept);
  a.bind();
  try {
    assert.throws(() => assertPortFree("127.0.0.1", port), Deno.errors.AddrInUse);
    assert.throws(() => new Listener("b", addr, onAccept).bind(), /cannot listen on 127\.0\.0\.1/);
    const shared = new Listener("c", addr, onAccept);
    shared.bind({ shared: true });
    shared.close();
  } finally {
    a.close();
  }
});

Deno.test("upgrade of a unix listener: the new socket takes the path; closing the old one leaves it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/l.sock`;
  const addr = { kind: "unix" as const, path };
  const served: string[] = [];
  const serve = (name: string) => (c: Deno.Conn) => {
    served.push(name);
    c.close();
  };
  const old = new Listener("old", addr, serve("old"));
  const next = new Listener("new", addr, serve("new"));
  try {
    old.bind();
    old.start();
    next.bind({ shared: true });
    next.start();
    old.close();
    const c = await Deno.connect({ transport: "unix", path });
    await c.read(new Uint8Array(1)).catch(() => null);
    c.close();
    assert.deepEqual(served, ["new"]);
    next.close();
    // Deno unlinks the path when the listener resource is dropped, after its pending accept.
    let gone = false;
    for (let i = 0; i < 200 && !gone; i++) {
      gone = await Deno.stat(path).then(() => false, (e) => e instanceof Deno.errors.NotFound);
      if (!gone) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(gone, "the last owner removes the path");
  } finally {
    old.close();
    next.close();
    await Deno.remove(dir, { recursive: true });
  }
});
