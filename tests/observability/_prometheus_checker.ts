/**
 * A strict parser for Prometheus text format 0.0.4 as mosn.ts emits it: every line must be a
 * `# HELP`, a `# TYPE` or a sample of the family just announced; throws on the first violation,
 * naming the line.
 */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, where: string): number {
  if (!VALUE.test(s)) throw new Error(`${where}: bad value ${JSON.stringify(s)}`);
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

/** Parses `{a="b",c="d"}` starting at `s[0] === "{"`; returns labels and the rest of the line. */
function parseLabels(s: string, where: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  if (s[i] === "}") throw new Error(`${where}: empty label set must be omitted`);
  for (;;) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: duplicate label ${name}`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label value must be quoted`);
    let j = eq + 2;
    let value = "";
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === "\n") throw new Error(`${where}: raw newline in label value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = s[j + 1];
        if (e === "\\") value += "\\";
        else if (e === '"') value += '"';
        else if (e === "n") value += "\n";
        else throw new Error(`${where}: bad escape \\${e ?? ""} in label value`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    j++; // closing quote
    if (s[j] === "}") return [labels, s.slice(j + 1)];
    if (s[j] !== ",") throw new Error(`${where}: expected ',' or '}' after label ${name}`);
    i = j + 1;
  }
}

function checkHelp(text: string, where: string): string {
  // only \\ and \n are escapes in HELP
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") {
      const e = text[i + 1];
      if (e !== "\\" && e !== "n") throw new Error(`${where}: bad escape in HELP`);
      i++;
    }
  }
  return text.replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
}

/** Which family a sample name belongs to, given the current family's name and type. */
function sampleBelongs(sample: string, fam: ParsedFamily): boolean {
  if (fam.type === "histogram") {
    return sample === `${fam.name}_bucket` || sample === `${fam.name}_sum` ||
      sample === `${fam.name}_count`;
  }
  return sample === fam.name;
}

function checkHistogram(fam: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  const counts = new Map<string, number>();
  for (const s of fam.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${fam.name}: _bucket sample without le`);
      let g = groups.get(key);
      if (!g) groups.set(key, g = []);
      g.push(s);
    } else if (s.name.endsWith("_count")) counts.set(key, s.value);
  }
  for (const [key, buckets] of groups) {
    let prevLe = -Infinity;
    let prevCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels["le"]!, `${fam.name} le`);
      if (le <= prevLe) throw new Error(`${fam.name}${key}: le not increasing`);
      if (b.value < prevCount) throw new Error(`${fam.name}${key}: buckets not cumulative`);
      prevLe = le;
      prevCount = b.value;
    }
    if (prevLe !== Infinity) throw new Error(`${fam.name}${key}: last bucket is not le="+Inf"`);
    if (counts.get(key) !== prevCount) throw new Error(`${fam.name}${key}: +Inf bucket != _count`);
  }
}

/** Parses and checks the whole exposition; families by name, in output order. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  if (text === "") return families;
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  let current: ParsedFamily | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  lines.forEach((line, idx) => {
    const where = `line ${idx + 1} ${JSON.stringify(line)}`;
    if (line === "") throw new Error(`${where}: empty line`);
    if (line !== line.trimEnd()) throw new Error(`${where}: trailing whitespace`);
    if (line.startsWith("# HELP ")) {
      const m = /^# HELP (\S+) (.*)$/.exec(line);
      if (!m || !METRIC_NAME.test(m[1]!)) throw new Error(`${where}: bad HELP`);
      if (families.has(m[1]!) || pendingHelp) {
        throw new Error(`${where}: HELP repeated or out of place`);
      }
      pendingHelp = { name: m[1]!, help: checkHelp(m[2]!, where) };
      return;
    }
    if (line.startsWith("# TYPE ")) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (!m || !METRIC_NAME.test(m[1]!) || !TYPES.has(m[2]!)) {
        throw new Error(`${where}: bad TYPE`);
      }
      if (!pendingHelp || pendingHelp.name !== m[1]) throw new Error(`${where}: TYPE without HELP`);
      if (families.has(m[1]!)) throw new Error(`${where}: family announced twice`);
      current = { name: m[1]!, type: m[2]!, help: pendingHelp.help, samples: [] };
      families.set(current.name, current);
      pendingHelp = undefined;
      return;
    }
    if (line.startsWith("#")) throw new Error(`${where}: unexpected comment`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(line);
    if (!m) throw new Error(`${where}: bad sample name`);
    const name = m[1]!;
    let rest = m[2]!;
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, where);
    if (!rest.startsWith(" ")) throw new Error(`${where}: expected one space before the value`);
    const parts = rest.slice(1).split(" ");
    if (parts.length !== 1) throw new Error(`${where}: timestamps are not emitted`);
    const value = parseValue(parts[0]!, where);
    if (!current || pendingHelp || !sampleBelongs(name, current)) {
      throw new Error(`${where}: sample outside its family's HELP/TYPE`);
    }
    current.samples.push({ name, labels, value });
  });
  if (pendingHelp) throw new Error("HELP without TYPE at the end");
  for (const f of families.values()) {
    if (f.samples.length === 0) throw new Error(`${f.name}: family without samples`);
    if (f.type === "counter" && (!f.name.endsWith("_total") || f.name.endsWith("_total_total"))) {
      throw new Error(`${f.name}: counter family must end in a single _total`);
    }
    if (f.type === "histogram") checkHistogram(f);
  }
  return families;
}
