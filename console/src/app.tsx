/// <reference lib="dom" />
/** The console shell: header (theme, token, live status), navigation, and the current page. */

import { useEffect, useState } from "preact/hooks";
import type { OverviewPoint, OverviewResponse } from "../../src/admin/console_types.ts";
import { ApiError, getJson, getToken, type LiveData, setToken, streamEvents } from "./api.ts";
import { ClustersPage } from "./pages/clusters.tsx";
import { ConfigPage } from "./pages/config.tsx";
import { ConnectionsPage } from "./pages/connections.tsx";
import { LoggingPage } from "./pages/logging.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { RoutesPage } from "./pages/routes.tsx";
import { StatsPage } from "./pages/stats.tsx";

const PAGES = [
  ["overview", "Overview"],
  ["connections", "Connections"],
  ["routes", "Routes"],
  ["clusters", "Clusters"],
  ["stats", "Stats"],
  ["config", "Config"],
  ["logging", "Logging"],
] as const;
type Page = typeof PAGES[number][0];

const MAX_POINTS = 300;

function pageFromHash(): Page {
  const h = location.hash.replace(/^#\/?/, "");
  return (PAGES.find(([id]) => id === h)?.[0]) ?? "overview";
}

type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("mosn.console.theme");
  if (saved === "light" || saved === "dark") return saved;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function TokenForm({ reason, onSave }: { readonly reason: string; readonly onSave: () => void }) {
  const [value, setValue] = useState(getToken());
  return (
    <form
      class="token panel"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim());
        onSave();
      }}
    >
      <p role="alert">{reason}</p>
      <label for="token">Admin token</label>
      <input
        id="token"
        type="password"
        autocomplete="current-password"
        value={value}
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Use token</button>
    </form>
  );
}

export function App() {
  const [page, setPage] = useState<Page>(pageFromHash());
  const [theme, setTheme] = useState<Theme>(initialTheme());
  const [live, setLive] = useState<LiveData>({});
  const [history, setHistory] = useState<OverviewPoint[]>([]);
  const [connected, setConnected] = useState(false);
  const [authError, setAuthError] = useState<string>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("mosn.console.theme", theme);
  }, [theme]);

  useEffect(() => {
    const ac = new AbortController();
    getJson<OverviewResponse>("/api/v1/overview").then((o) => {
      setHistory([...(o.history ?? [])].slice(-MAX_POINTS));
      setLive((l) => ({ ...l, overview: o }));
    }, () => {});
    void streamEvents((e) => {
      if (e.topic === "overview") {
        const p = e.data.point;
        if (p) setHistory((h) => [...h.slice(-(MAX_POINTS - 1)), p]);
        setLive((l) => ({ ...l, overview: e.data }));
      } else if (e.topic === "connections") setLive((l) => ({ ...l, connections: e.data }));
      else setLive((l) => ({ ...l, clusters: e.data }));
    }, (ok, err) => {
      setConnected(ok);
      if (ok) setAuthError(undefined);
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setAuthError(err.message);
      }
    }, ac.signal);
    return () => ac.abort();
  }, [attempt]);

  const title = PAGES.find(([id]) => id === page)![1];
  useEffect(() => {
    document.title = `${title} · mosn.ts console`;
  }, [title]);

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <h1>
          mosn.ts <span class="muted">console</span>
        </h1>
        <span class={connected ? "badge ok" : "badge bad"} role="status" aria-live="polite">
          {connected ? "live" : "disconnected"}
        </span>
        <button
          type="button"
          class="theme"
          aria-pressed={theme === "dark"}
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
        >
          {theme === "dark" ? "Light theme" : "Dark theme"}
        </button>
      </header>
      <nav aria-label="Views" class="tabs">
        <ul>
          {PAGES.map(([id, label]) => (
            <li key={id}>
              <a href={`#/${id}`} aria-current={page === id ? "page" : undefined}>{label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {authError && <TokenForm reason={authError} onSave={() => setAttempt((a) => a + 1)} />}
        {page === "overview" && <OverviewPage overview={live.overview} history={history} />}
        {page === "connections" && <ConnectionsPage data={live.connections} />}
        {page === "clusters" && <ClustersPage data={live.clusters} />}
        {page === "routes" && <RoutesPage key={attempt} />}
        {page === "stats" && <StatsPage key={attempt} />}
        {page === "config" && <ConfigPage key={attempt} />}
        {page === "logging" && <LoggingPage key={attempt} />}
      </main>
    </>
  );
}
