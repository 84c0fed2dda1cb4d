/**
 * A sortable, filterable table. Rows are keyed, so live updates change cells in place (focus and
 * scroll position survive). Column headers are buttons; `aria-sort` tells screen readers.
 */

import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";

export interface Column<T> {
  readonly key: string;
  readonly label: string;
  /** The value sorted and filtered on. */
  readonly value: (row: T) => string | number;
  /** How the cell shows; default the value. */
  readonly render?: (row: T) => ComponentChildren;
  readonly numeric?: boolean;
}

interface Props<T> {
  readonly caption: string;
  readonly columns: readonly Column<T>[];
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string | number;
  readonly filterLabel?: string;
  readonly initialSort?: { key: string; desc: boolean };
  readonly empty?: string;
  readonly testId?: string;
}

export function DataTable<T>(p: Props<T>) {
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState(p.initialSort ?? { key: p.columns[0]!.key, desc: false });
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const rows = f
      ? p.rows.filter((r) => p.columns.some((c) => String(c.value(r)).toLowerCase().includes(f)))
      : [...p.rows];
    const col = p.columns.find((c) => c.key === sort.key);
    if (col) {
      rows.sort((a, b) => {
        const x = col.value(a), y = col.value(b);
        const d = typeof x === "number" && typeof y === "number"
          ? x - y
          : String(x).localeCompare(String(y), undefined, { numeric: true });
        return sort.desc ? -d : d;
      });
    }
    return rows;
  }, [p.rows, p.columns, filter, sort]);
  const id = `filter-${p.testId ?? p.caption.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <div class="table-wrap">
      <div class="toolbar">
        <label for={id}>{p.filterLabel ?? "Filter"}</label>
        <input
          id={id}
          type="search"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          placeholder="text in any column"
        />
        <span class="muted" aria-live="polite">{shown.length} of {p.rows.length}</span>
      </div>
      <div class="scroll">
        <table data-testid={p.testId}>
          <caption class="sr-only">{p.caption}</caption>
          <thead>
            <tr>
              {p.columns.map((c) => {
                const active = sort.key === c.key;
                return (
                  <th
                    key={c.key}
                    scope="col"
                    class={c.numeric ? "num" : ""}
                    aria-sort={active ? (sort.desc ? "descending" : "ascending") : "none"}
                  >
                    <button
                      type="button"
                      onClick={() => setSort({ key: c.key, desc: active ? !sort.desc : false })}
                    >
                      {c.label}
                      <span aria-hidden="true">{active ? (sort.desc ? " ▾" : " ▴") : ""}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr>
                <td colSpan={p.columns.length} class="muted">{p.empty ?? "nothing to show"}</td>
              </tr>
            )}
            {shown.map((r) => (
              <tr key={p.rowKey(r)}>
                {p.columns.map((c) => (
                  <td key={c.key} class={c.numeric ? "num" : ""}>
                    {c.render ? c.render(r) : c.value(r)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
