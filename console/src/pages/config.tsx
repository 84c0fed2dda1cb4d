/** Config: the running config dump, searchable (matching lines are kept, with their line numbers). */

import { useEffect, useMemo, useState } from "preact/hooks";
import { getJson } from "../api.ts";

export function ConfigPage() {
  const [text, setText] = useState<string>();
  const [error, setError] = useState<string>();
  const [query, setQuery] = useState("");
  const load = () =>
    getJson<unknown>("/api/v1/config_dump").then((d) => {
      setText(JSON.stringify(d, null, 2));
      setError(undefined);
    }, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  const lines = useMemo(() => {
    const all = (text ?? "").split("\n").map((l, i) => ({ n: i + 1, l }));
    const q = query.trim().toLowerCase();
    return q ? all.filter((x) => x.l.toLowerCase().includes(q)) : all;
  }, [text, query]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (text === undefined) return <p class="muted">Loading…</p>;
  return (
    <section aria-labelledby="cfg-title">
      <h2 id="cfg-title">Config</h2>
      <div class="toolbar">
        <label for="cfg-search">Search</label>
        <input
          id="cfg-search"
          type="search"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          placeholder="key or value"
        />
        <span class="muted" aria-live="polite">{lines.length} lines</span>
        <button type="button" onClick={() => void load()}>Reload</button>
      </div>
      <pre class="code" tabIndex={0} aria-label="config dump" data-testid="config">
        {lines.map((x) => <span key={x.n}><span class="ln" aria-hidden="true">{x.n}</span>{x.l + "\n"}</span>)}
      </pre>
    </section>
  );
}
