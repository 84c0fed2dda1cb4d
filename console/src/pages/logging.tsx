/** Logging: shows and changes the error log level (POST /api/v1/update_loglevel). */

import { useEffect, useState } from "preact/hooks";
import type { LogLevelResponse, UpdateLogLevelResponse } from "../../../src/admin/types.ts";
import { getJson, postJson } from "../api.ts";

const LEVELS = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

export function LoggingPage() {
  const [current, setCurrent] = useState<string>();
  const [choice, setChoice] = useState("INFO");
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  useEffect(() => {
    getJson<LogLevelResponse>("/api/v1/get_loglevel").then((r) => {
      setCurrent(r.log_level);
      setChoice(r.log_level);
    }, (e) => setMessage({ ok: false, text: (e as Error).message }));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await postJson<UpdateLogLevelResponse>("/api/v1/update_loglevel", {
        log_level: choice,
      });
      setCurrent(r.log_level);
      setMessage({ ok: true, text: `log level ${r.previous_log_level} → ${r.log_level}` });
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Logging</h2>
      <p>
        Current level: <strong data-testid="log-level">{current ?? "…"}</strong>
      </p>
      <form onSubmit={submit} class="toolbar">
        <label for="log-level">New level</label>
        <select
          id="log-level"
          value={choice}
          onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}
        >
          {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
        <button type="submit">Apply</button>
      </form>
      {message && <p role="status" class={message.ok ? "ok-text" : "error"}>{message.text}</p>}
    </section>
  );
}
