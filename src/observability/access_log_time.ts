/**
 * Time text for access logs: Go's `time.Duration.String()` (MOSN's duration variables), MOSN's
 * start-time layout, and a compiled strftime subset for Envoy's `%START_TIME(<format>)%`.
 */

/** Go's Duration.String() for a duration in milliseconds: "0s", "850µs", "1.5ms", "1m2.5s". */
export function goDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${fraction(ns, 1e3, 3)}µs`;
  if (ns < 1e9) return `${sign}${fraction(ns, 1e6, 6)}ms`;
  const totalSec = Math.floor(ns / 1e9);
  const sec = fraction(ns - (totalSec - (totalSec % 60)) * 1e9, 1e9, 9) + "s";
  const totalMin = Math.floor(totalSec / 60);
  if (totalMin === 0) return sign + sec;
  const h = Math.floor(totalMin / 60);
  return h === 0 ? `${sign}${totalMin}m${sec}` : `${sign}${h}h${totalMin % 60}m${sec}`;
}

/** `n / unit` with up to `digits` decimals, trailing zeros (and a bare dot) removed. */
function fraction(n: number, unit: number, digits: number): string {
  const whole = Math.floor(n / unit);
  const rest = n - whole * unit;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/** MOSN's start_time layout "2006/01/02 15:04:05.000" in local time. */
export function mosnStartTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.` +
    pad3(d.getMilliseconds());
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

type DatePart = (d: Date, epochMs: number) => string;

const PARTS: Record<string, DatePart> = {
  Y: (d) => String(d.getUTCFullYear()),
  y: (d) => pad2(d.getUTCFullYear() % 100),
  m: (d) => pad2(d.getUTCMonth() + 1),
  d: (d) => pad2(d.getUTCDate()),
  e: (d) => String(d.getUTCDate()).padStart(2, " "),
  H: (d) => pad2(d.getUTCHours()),
  I: (d) => pad2(((d.getUTCHours() + 11) % 12) + 1),
  p: (d) => (d.getUTCHours() < 12 ? "AM" : "PM"),
  M: (d) => pad2(d.getUTCMinutes()),
  S: (d) => pad2(d.getUTCSeconds()),
  j: (d) => pad3(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1),
  a: (d) => DAYS[d.getUTCDay()]!,
  A: (d) => DAY_NAMES[d.getUTCDay()]!,
  b: (d) => MONTHS[d.getUTCMonth()]!,
  h: (d) => MONTHS[d.getUTCMonth()]!,
  B: (d) => MONTH_NAMES[d.getUTCMonth()]!,
  s: (_d, ms) => String(Math.floor(ms / 1000)),
  z: () => "+0000",
  Z: () => "UTC",
  n: () => "\n",
  t: () => "\t",
  "%": () => "%",
};
PARTS.T = (d, ms) => `${PARTS.H!(d, ms)}:${PARTS.M!(d, ms)}:${PARTS.S!(d, ms)}`;
PARTS.R = (d, ms) => `${PARTS.H!(d, ms)}:${PARTS.M!(d, ms)}`;
PARTS.F = (d, ms) => `${PARTS.Y!(d, ms)}-${PARTS.m!(d, ms)}-${PARTS.d!(d, ms)}`;
PARTS.D = (d, ms) => `${PARTS.m!(d, ms)}/${PARTS.d!(d, ms)}/${PARTS.y!(d, ms)}`;

/** `digits` digits of the sub-second part (ms precision, zero-padded past it). */
function subSecond(digits: number): DatePart {
  return (_d, ms) => {
    const milli = pad3(((Math.floor(ms) % 1000) + 1000) % 1000);
    return digits <= 3 ? milli.slice(0, digits) : milli.padEnd(digits, "0");
  };
}

/**
 * Compiles a strftime format (UTC, as Envoy prints START_TIME) into a function of epoch ms.
 * Supports %Y %y %m %d %e %H %I %p %M %S %j %a %A %b %h %B %s %z %Z %T %R %F %D %n %t %%, and
 * Envoy's %f / %1f…%9f sub-second digits; other directives are kept as written.
 */
export function compileStrftime(format: string): (epochMs: number) => string {
  const parts: (string | DatePart)[] = [];
  let text = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%" || i + 1 >= format.length) {
      text += c;
      continue;
    }
    const next = format[i + 1]!;
    let part: DatePart | undefined;
    let used = 1;
    if (next >= "1" && next <= "9" && format[i + 2] === "f") {
      part = subSecond(Number(next));
      used = 2;
    } else if (next === "f") {
      part = subSecond(9);
    } else if (next === "E") {
      // %E<n>S: seconds with n decimals (Envoy's %E3S)
      const n = format[i + 2] ?? "";
      if (n >= "1" && n <= "9" && format[i + 3] === "S") {
        const frac = subSecond(Number(n));
        part = (d, ms) => `${PARTS.S!(d, ms)}.${frac(d, ms)}`;
        used = 3;
      }
    } else part = PARTS[next];
    if (!part) {
      text += c;
      continue;
    }
    if (text) parts.push(text);
    text = "";
    parts.push(part);
    i += used;
  }
  if (text) parts.push(text);
  return (epochMs) => {
    const d = new Date(epochMs);
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : p(d, epochMs);
    return out;
  };
}
