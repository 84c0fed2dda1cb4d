import assert from "node:assert/strict";
import { IdTable } from "../../src/common/id_table.ts";

/** Small deterministic PRNG (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function sameAsMap(t: IdTable<{ k: number }>, m: Map<number, { k: number }>, what: string): void {
  assert.equal(t.size, m.size, `${what}: size`);
  for (const [k, v] of m) {
    assert.equal(t.get(k), v, `${what}: get(${k})`);
    assert.ok(t.has(k), `${what}: has(${k})`);
  }
  const expected = [...m.keys()].sort((a, b) => a - b);
  assert.deepEqual(t.values().map((v) => v.k), expected, `${what}: values in id order`);
}

Deno.test("IdTable behaves like a Map under random adds, replaces and deletes", () => {
  const keyKinds: [string, (r: () => number, i: number) => number][] = [
    ["odd stream ids", (_r, i) => 2 * i + 1],
    ["random u32 ids", (r) => Math.floor(r() * 0x1_0000_0000)],
    ["few colliding ids", (r) => Math.floor(r() * 40)],
    ["large multiples", (r) => Math.floor(r() * 1000) * 65536],
  ];
  for (const [kind, nextKey] of keyKinds) {
    const r = rng(kind.length * 7919);
    const t = new IdTable<{ k: number }>();
    const m = new Map<number, { k: number }>();
    const live: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const op = r();
      if (op < 0.5 || live.length === 0) {
        const k = nextKey(r, i);
        const v = { k };
        if (!m.has(k)) live.push(k);
        t.set(k, v);
        m.set(k, v);
      } else if (op < 0.95) {
        const k = live.splice(Math.floor(r() * live.length), 1)[0]!;
        assert.equal(t.delete(k), true, `${kind}: delete(${k})`);
        m.delete(k);
      } else {
        const absent = -1 - Math.floor(r() * 100);
        assert.equal(t.delete(absent), false);
        assert.equal(t.get(absent), undefined);
      }
      if (i % 997 === 0) sameAsMap(t, m, `${kind} step ${i}`);
    }
    sameAsMap(t, m, kind);
    t.clear();
    assert.equal(t.size, 0);
    assert.deepEqual(t.values(), []);
    assert.equal(t.get(live[0] ?? 1), undefined);
  }
});

Deno.test("IdTable grows past its first capacity and keeps every entry", () => {
  const t = new IdTable<string>();
  for (let i = 1; i <= 1000; i++) t.set(i, `v${i}`);
  assert.equal(t.size, 1000);
  for (let i = 1; i <= 1000; i++) assert.equal(t.get(i), `v${i}`);
  for (let i = 1; i <= 1000; i += 2) t.delete(i);
  assert.equal(t.size, 500);
  for (let i = 1; i <= 1000; i++) assert.equal(t.get(i), i % 2 === 0 ? `v${i}` : undefined);
});

/**
 * The reason the table exists: a long-lived Map that gains and loses an entry per request
 * keeps finished requests reachable from its discarded backing tables, which the young
 * generation collector counts as live (they sit in the old generation). Churn 10 live entries,
 * each holding some fresh garbage, through a table that has been promoted, and read V8's own
 * GC trace: with IdTable almost nothing may be promoted.
 */
Deno.test("a churning IdTable does not keep finished values alive through scavenges", async () => {
  const script = new URL("./_fixtures/id_table_churn.ts", import.meta.url).pathname;
  const promotedShare = async (kind: string): Promise<number> => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--v8-flags=--expose-gc,--trace-gc-nvp", script, kind],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    let allocated = 0;
    let promoted = 0;
    for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
      const i = line.indexOf("GC: {");
      if (i < 0) continue;
      const gc = JSON.parse(line.slice(i + 4)) as {
        gc: string;
        allocated?: number;
        promoted?: number;
      };
      if (gc.gc !== "s") continue;
      allocated += gc.allocated ?? 0;
      promoted += gc.promoted ?? 0;
    }
    assert.ok(allocated > 100e6, `${kind}: the churn allocated only ${allocated} bytes`);
    return promoted / allocated;
  };
  const table = await promotedShare("idtable");
  const map = await promotedShare("map");
  assert.ok(
    table < 0.02,
    `IdTable: ${(table * 100).toFixed(2)}% of allocated bytes promoted (Map: ${
      (map * 100).toFixed(2)
    }%)`,
  );
});
