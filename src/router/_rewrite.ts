/** Regex substitution templates (Go `$1`/`${name}`, Envoy `\1`) and host:port helpers. */

type Part = string | number | { name: string };

/** A compiled substitution: literal text and group references. */
export class Substitution {
  readonly #parts: Part[] = [];
  readonly #groups: number;

  /** `groups`: the number of capture groups in the pattern it is used with. */
  constructor(template: string, groups: number) {
    this.#groups = groups;
    let lit = "";
    const push = (p: Part) => {
      if (lit) this.#parts.push(lit);
      lit = "";
      this.#parts.push(p);
    };
    for (let i = 0; i < template.length; i++) {
      const c = template[i]!;
      const next = template[i + 1];
      if (c === "$") {
        if (next === "$") {
          lit += "$";
          i++;
          continue;
        }
        let name: string | undefined;
        if (next === "{") {
          const close = template.indexOf("}", i + 2);
          const inner = close > 0 ? template.slice(i + 2, close) : "";
          if (/^[A-Za-z0-9_]+$/.test(inner)) {
            name = inner;
            i = close;
          }
        } else {
          const m = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
          if (m) {
            name = m[0];
            i += name.length;
          }
        }
        if (name === undefined) lit += "$";
        else push(/^[0-9]+$/.test(name) ? Number(name) : { name });
        continue;
      }
      if (c === "\\" && next !== undefined && /[0-9]/.test(next)) {
        push(Number(next));
        i++;
        continue;
      }
      if (c === "\\" && next === "\\") {
        lit += "\\";
        i++;
        continue;
      }
      lit += c;
    }
    if (lit) this.#parts.push(lit);
  }

  /** Builds the replacement from `String.prototype.replace` callback arguments. */
  expand(args: unknown[]): string {
    let out = "";
    const groups = args[this.#groups + 3];
    for (const p of this.#parts) {
      if (typeof p === "string") out += p;
      else if (typeof p === "number") {
        out += p <= this.#groups ? (args[p] as string | undefined) ?? "" : "";
      } else if (typeof groups === "object" && groups !== null) {
        out += (groups as Record<string, string | undefined>)[p.name] ?? "";
      }
    }
    return out;
  }
}

/** Number of capture groups in `re`. */
export function groupCount(re: RegExp): number {
  return new RegExp(re.source + "|").exec("")!.length - 1;
}

/** Index of the ":" before a port in `host:port` / `[v6]:port`, or -1. Bare IPv6 has no port. */
export function portStart(host: string): number {
  const i = host.lastIndexOf(":");
  if (i < 0) return -1;
  const close = host.lastIndexOf("]");
  if (close >= 0) return close === i - 1 ? i : -1;
  return host.indexOf(":") === i ? i : -1;
}

/** `host` with a port removed, if it has one. */
export function stripPort(host: string): string {
  const i = portStart(host);
  return i < 0 ? host : host.slice(0, i);
}
