/** Starts the admin server on 127.0.0.1:0 around a test body and always closes it. */

import { startAdmin } from "../../src/admin/server.ts";
import type { AdminOptions } from "../../src/admin/server.ts";
import { type FakeSource, fakeSource } from "./_fake_source.ts";

export interface Harness {
  readonly src: FakeSource;
  readonly base: string;
  /** fetch that always reads the body (keeps the resource sanitizer happy). */
  get(path: string, init?: RequestInit): Promise<{ res: Response; body: string }>;
}

export async function withAdmin(
  fn: (h: Harness) => Promise<void>,
  options: AdminOptions = {},
  src: FakeSource = fakeSource(),
): Promise<void> {
  const admin = startAdmin(src, { hostname: "127.0.0.1", port: 0 }, options);
  const base = `http://127.0.0.1:${admin.port}`;
  try {
    await fn({
      src,
      base,
      async get(path, init) {
        const res = await fetch(base + path, init);
        return { res, body: await res.text() };
      },
    });
  } finally {
    await admin.close();
  }
}
