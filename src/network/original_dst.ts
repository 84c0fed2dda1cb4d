/**
 * Original destination of redirected connections, and transparent (TPROXY) listening sockets,
 * through libc by FFI (Deno has no API for either):
 *
 * - iptables REDIRECT rewrites the destination; the kernel keeps the original one, read with
 *   `getsockopt(fd, SOL_IP, SO_ORIGINAL_DST)` (IPv6: `SOL_IPV6, IP6T_SO_ORIGINAL_DST`).
 * - iptables TPROXY leaves the destination alone; a listening socket with `IP_TRANSPARENT` may
 *   accept connections to any address, and the accepted socket's local address is the original
 *   destination.
 *
 * The libc calls are in libc.ts. Without `--allow-ffi` (or off Linux) the helpers return
 * undefined/false.
 */

import { log } from "../common/logger.ts";
import type { Address } from "../config/model.ts";
import {
  connFd,
  decodeSockaddr,
  errno,
  getSockOptInt,
  lib,
  type LibC,
  socketAddress,
} from "./libc.ts";

const SOL_IP = 0;
const SOL_IPV6 = 41;
const SO_ORIGINAL_DST = 80;
const IP6T_SO_ORIGINAL_DST = 80;
const IP_TRANSPARENT = 19;
const IPV6_TRANSPARENT = 75;

/** True when libc can be reached by FFI (loads it on first call). */
export function originalDstSupported(): boolean {
  return lib() !== null;
}

function getsockoptAddr(c: LibC, fd: number, level: number, opt: number): Address | undefined {
  const buf = new Uint8Array(28);
  const len = new Uint32Array([buf.byteLength]);
  if (c.getsockopt(fd, level, opt, buf, len) !== 0) return undefined;
  return decodeSockaddr(buf.subarray(0, Math.min(len[0]!, buf.byteLength)));
}

/**
 * Where a connection redirected by iptables REDIRECT (or any NAT) was headed: SO_ORIGINAL_DST.
 * Undefined when the socket was not NATed and conntrack has no entry, for unix sockets, or when
 * FFI is unavailable. A connection that was not rewritten yields its own local address.
 */
export function originalDestination(conn: Deno.Conn): Address | undefined {
  if (conn.localAddr.transport !== "tcp") return undefined;
  const fd = connFd(conn);
  if (fd === undefined) return undefined;
  const c = lib();
  if (!c) return undefined;
  const v6 = (conn.localAddr as Deno.NetAddr).hostname.includes(":");
  const a = getsockoptAddr(c, fd, SOL_IP, SO_ORIGINAL_DST) ??
    (v6 ? getsockoptAddr(c, fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST) : undefined);
  if (!a) log.debug("SO_ORIGINAL_DST failed", { fd, errno: errno(c) });
  return a;
}

/** TPROXY: the original destination is the accepted socket's local address. */
export function localDestination(conn: Deno.Conn): Address | undefined {
  const l = conn.localAddr;
  return l.transport === "tcp" ? { kind: "tcp", host: l.hostname, port: l.port } : undefined;
}

/**
 * Sets IP_TRANSPARENT (and IPV6_TRANSPARENT on IPv6 sockets) on a socket, so a listening socket
 * accepts TPROXY-diverted connections to addresses that are not local. Needs CAP_NET_ADMIN.
 * Throws with errno on failure; returns false when FFI is unavailable.
 */
export function setTransparent(fd: number): boolean {
  const c = lib();
  if (!c) return false;
  const one = new Uint8Array(new Int32Array([1]).buffer);
  const self = socketAddress(fd);
  const v6 = self?.kind === "tcp" && self.host.includes(":");
  const [level, opt] = v6 ? [SOL_IPV6, IPV6_TRANSPARENT] : [SOL_IP, IP_TRANSPARENT];
  if (c.setsockopt(fd, level, opt, one, 4) !== 0) {
    const e = errno(c);
    throw new Error(
      `setsockopt IP_TRANSPARENT failed (errno ${e}${e === 1 ? ", needs CAP_NET_ADMIN" : ""})`,
    );
  }
  return true;
}

/** True when IP_TRANSPARENT is set on `fd` (IPv4 sockets). */
export function isTransparent(fd: number): boolean {
  return getSockOptInt(fd, SOL_IP, IP_TRANSPARENT) === 1;
}
