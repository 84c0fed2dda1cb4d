/**
 * Churns a long-lived id table like an HTTP/2 connection's stream table: 10 entries live, one
 * added and one removed per "request", each value holding a little fresh memory. Run with
 * `--expose-gc --trace-gc-nvp`; argument `idtable` or `map`.
 */
import { IdTable } from "../../../src/common/id_table.ts";

interface Table {
  set(k: number, v: object): void;
  delete(k: number): boolean;
}

const table: Table = Deno.args[0] === "map" ? new Map<number, object>() : new IdTable<object>();
table.set(-1, {});
table.delete(-1);
// Two young-generation collections move the table (and its backing store) to the old one,
// as happens to any connection that lives a while.
const gc = (globalThis as unknown as { gc(o: { type: string }): void }).gc;
gc({ type: "minor" });
gc({ type: "minor" });
const live: number[] = [];
let id = 1;
for (let i = 0; i < 1_000_000; i++) {
  table.set(id, { id, payload: new Array(30).fill(i), meta: { at: i } });
  live.push(id);
  id += 2;
  if (live.length > 10) table.delete(live.shift()!);
}
