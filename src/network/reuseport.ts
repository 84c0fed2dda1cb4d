/**
 * SO_REUSEPORT steering for listener handover between two processes.
 *
 * Deno cannot pass listening sockets between processes (no fd passing, sockets are CLOEXEC), so
 * a new process joins the old one's SO_REUSEPORT group on every port instead. Closing the old
 * socket while the kernel still hashes new connections to it would reset whatever sits in its
 * accept queue (unless net.ipv4.tcp_migrate_req is set, which it usually is not). So, before
 * closing, the old process attaches a one-instruction classic BPF program to the group that
 * returns a fixed socket index — the new socket — and keeps accepting until its own queue is
 * empty. Sockets are indexed in the order they joined the group: the old one is 0, the new one 1.
 *
 * The program stays attached to the group after the old socket is gone; the new process then
 * detaches it (with one socket left, index 1 is out of range and the kernel falls back to hashing
 * anyway, but a later upgrade must start from a clean group).
 */

import { errno, lib, listeningFds, SOL_SOCKET } from "./libc.ts";

const SO_ATTACH_REUSEPORT_CBPF = 51;
const SO_DETACH_REUSEPORT_BPF = 68;
/** BPF_RET | BPF_K: return the constant k. */
const BPF_RET_K = 0x06;

/**
 * Steers every new connection of `fd`'s reuseport group to the socket at `index` (join order).
 * Throws with errno on failure; false when FFI is unavailable.
 */
export function steerReuseport(fd: number, index: number): boolean {
  const c = lib();
  if (!c) return false;
  // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
  const filter = new Uint8Array(8);
  const fv = new DataView(filter.buffer);
  fv.setUint16(0, BPF_RET_K, true);
  fv.setUint32(4, index, true);
  // struct sock_fprog { u16 len; /* 6 bytes padding */ struct sock_filter *filter; }
  const prog = new Uint8Array(16);
  const pv = new DataView(prog.buffer);
  pv.setUint16(0, 1, true);
  pv.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
  const rc = c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog, prog.byteLength);
  // Keep `filter` reachable until the kernel has copied it (setsockopt copies synchronously).
  if (filter.byteLength !== 8 || rc !== 0) {
    throw new Error(`setsockopt SO_ATTACH_REUSEPORT_CBPF failed (errno ${errno(c)})`);
  }
  return true;
}

/** Removes a steering program from `fd`'s reuseport group; true when one was removed. */
export function unsteerReuseport(fd: number): boolean {
  const c = lib();
  if (!c) return false;
  const zero = new Uint8Array(4);
  return c.setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, zero, 4) === 0;
}

/**
 * Throws AddrInUse when anything listens on host:port already. Listeners bind with SO_REUSEPORT
 * (so that a new process can join them on upgrade); that alone would let a second, unrelated
 * start share the port silently, so a normal start first binds without it, as a check.
 */
export function assertPortFree(host: string, port: number): void {
  if (port === 0) return;
  const probe = Deno.listen({ hostname: host, port });
  probe.close();
}

/**
 * Steers host:port's reuseport group to the socket at `index`. Returns how many of this
 * process's sockets the program was attached through (0: not found or FFI unavailable).
 */
export function steerAddress(host: string, port: number, index: number): number {
  let n = 0;
  for (const fd of listeningFds({ host, port })) if (steerReuseport(fd, index)) n++;
  return n;
}

/** Detaches any steering program from host:port's reuseport group (through our own socket). */
export function unsteerAddress(host: string, port: number): number {
  let n = 0;
  for (const fd of listeningFds({ host, port })) if (unsteerReuseport(fd)) n++;
  return n;
}
