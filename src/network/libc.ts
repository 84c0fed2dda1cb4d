/**
 * libc socket calls by FFI, for what Deno has no API for (socket options, getsockname, a
 * listener's fd), shared by original_dst.ts (SO_ORIGINAL_DST, IP_TRANSPARENT) and reuseport.ts
 * (reuseport steering). libc is opened on first use; without `--allow-ffi` (or off Linux) the
 * helpers return undefined/false/[] and the reason is logged once.
 */

import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";

export const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const AF_INET = 2;
const AF_INET6 = 10;

const SYMBOLS = {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

export type LibC = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** undefined: not tried yet; null: unavailable (reason logged once). */
let libc: LibC | null | undefined;

/** libc's socket calls, or null when FFI is unavailable (opened on first call). */
export function lib(): LibC | null {
  if (libc !== undefined) return libc;
  try {
    if (Deno.build.os !== "linux") throw new Error(`not supported on ${Deno.build.os}`);
    const perm = Deno.permissions.querySync({ name: "ffi" });
    if (perm.state !== "granted") throw new Error("needs --allow-ffi");
    libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  } catch (e) {
    libc = null;
    // One line for every feature that needs it: original destination, transparent listeners,
    // reuseport steering.
    log.warn("socket options unavailable (libc FFI)", { err: (e as Error).message });
  }
  return libc;
}

/** The calling thread's errno after a failed call. */
export function errno(c: LibC): number {
  const p = c.__errno_location();
  return p ? new Deno.UnsafePointerView(p).getInt32() : 0;
}

/** The OS file descriptor of an accepted Deno.TcpConn (Deno keeps it under an internal symbol). */
export function connFd(conn: Deno.Conn): number | undefined {
  for (const s of Object.getOwnPropertySymbols(conn)) {
    if (s.description === "Deno.internal.fd") {
      const fd = (conn as unknown as Record<symbol, unknown>)[s];
      return typeof fd === "number" && fd >= 0 ? fd : undefined;
    }
  }
  return undefined;
}

/** Decodes a sockaddr_in / sockaddr_in6 (family in host order, port big-endian). */
export function decodeSockaddr(b: Uint8Array): Address | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.byteLength < 8) return undefined;
  const family = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  if (family === AF_INET) {
    return { kind: "tcp", host: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  }
  if (family === AF_INET6 && b.byteLength >= 24) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(v.getUint16(8 + i * 2, false).toString(16));
    return { kind: "tcp", host: compressV6(words, b.subarray(8, 24)), port };
  }
  return undefined;
}

function compressV6(words: string[], raw: Uint8Array): string {
  // IPv4-mapped (::ffff:a.b.c.d) as Deno prints it.
  if (raw.subarray(0, 10).every((x) => x === 0) && raw[10] === 0xff && raw[11] === 0xff) {
    return `::ffff:${raw[12]}.${raw[13]}.${raw[14]}.${raw[15]}`;
  }
  // Longest run of zero words becomes "::" (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLen).join(":")}`;
}

/** The local address of a socket (getsockname). */
export function socketAddress(fd: number): Address | undefined {
  const c = lib();
  if (!c) return undefined;
  const buf = new Uint8Array(28);
  const len = new Uint32Array([buf.byteLength]);
  if (c.getsockname(fd, buf, len) !== 0) return undefined;
  return decodeSockaddr(buf.subarray(0, Math.min(len[0]!, buf.byteLength)));
}

/** Reads an int socket option; undefined on error. */
export function getSockOptInt(fd: number, level: number, opt: number): number | undefined {
  const c = lib();
  if (!c) return undefined;
  const buf = new Int32Array(1);
  const len = new Uint32Array([4]);
  return c.getsockopt(fd, level, opt, new Uint8Array(buf.buffer), len) === 0 ? buf[0] : undefined;
}

/**
 * The file descriptors of this process's listening TCP sockets bound to `address` (Deno does
 * not expose a listener's fd): scans /proc/self/fd for sockets, keeps the listening ones whose
 * getsockname matches. Needs read access to /proc/self/fd; [] when unavailable.
 */
export function listeningFds(address: { host: string; port: number }): number[] {
  if (!lib()) return [];
  const out: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc/self/fd")];
  } catch (e) {
    log.warn("cannot list /proc/self/fd", { err: (e as Error).message });
    return [];
  }
  for (const e of entries) {
    const fd = Number(e.name);
    if (!Number.isInteger(fd)) continue;
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (e.g. the directory handle itself)
    }
    if (!target.startsWith("socket:")) continue;
    if (getSockOptInt(fd, SOL_SOCKET, SO_ACCEPTCONN) !== 1) continue;
    const a = socketAddress(fd);
    if (a?.kind === "tcp" && a.port === address.port && sameHost(a.host, address.host)) {
      out.push(fd);
    }
  }
  return out;
}

function sameHost(a: string, b: string): boolean {
  const norm = (h: string) => h.replace(/^\[|\]$/g, "").toLowerCase();
  return norm(a) === norm(b);
}
