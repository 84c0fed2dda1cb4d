/** Address parsing and formatting shared by listeners, hosts and routes. */

import type { Address } from "../config/model.ts";

/** Parses "ip:port", "[v6]:port" or "unix:/path"; returns a reason string when invalid. */
export function parseAddress(text: string): Address | string {
  if (text.startsWith("unix:")) {
    const path = text.slice(5);
    return path.length > 0
      ? { kind: "unix", path }
      : `expected "unix:/path", got ${JSON.stringify(text)}`;
  }
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const end = text.indexOf("]:");
    if (end < 0) return `expected "[ipv6]:port", got ${JSON.stringify(text)}`;
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    if (!isIPv6(host)) return `expected an IPv6 address, got ${JSON.stringify(host)}`;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return `expected "ip:port", got ${JSON.stringify(text)}`;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isIPv4(host)) return `expected "ip:port", got ${JSON.stringify(text)}`;
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return `expected a port number, got ${JSON.stringify(text)}`;
  const port = Number(portText);
  if (port > 65535) return `port out of range 0-65535, got ${port}`;
  return { kind: "tcp", host, port };
}

export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s) && s.split("::").length <= 2;
}

export function formatAddress(a: Address): string {
  if (a.kind === "unix") return `unix:${a.path}`;
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Formats a Deno.Addr as MOSN prints it. */
export function formatNetAddr(a: Deno.Addr): string {
  if (a.transport === "tcp" || a.transport === "udp") {
    return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
  }
  return `unix:${(a as Deno.UnixAddr).path}`;
}

/** IPv4 to a 32-bit unsigned number, or undefined for non-IPv4 text. */
export function ipv4ToInt(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  const p = s.split(".").map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

/** True when `ip` is inside `cidr/prefixLen` (IPv4; IPv6 compares exactly unless prefix 0). */
export function cidrContains(cidr: string, prefixLen: number, ip: string): boolean {
  if (prefixLen === 0) return true;
  const a = ipv4ToInt(cidr);
  const b = ipv4ToInt(ip);
  if (a === undefined || b === undefined) return cidr === ip;
  const mask = prefixLen >= 32 ? 0xffffffff : (~((1 << (32 - prefixLen)) - 1)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}
