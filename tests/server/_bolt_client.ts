/**
 * The bolt load in a process of its own (as a real client application would be): calls every
 * 10 ms for `ms` milliseconds, then prints its LoadResult as JSON on stdout.
 *
 *   deno run -A tests/server/_bolt_client.ts <host:port> <ms>
 */

import { boltLoad } from "./_load.ts";

if (import.meta.main) {
  const [address, ms] = Deno.args;
  const load = boltLoad(address!);
  await new Promise((r) => setTimeout(r, Number(ms)));
  const r = await load.stop();
  console.log(JSON.stringify({ ...r, bodies: [] }));
  Deno.exit(0);
}
