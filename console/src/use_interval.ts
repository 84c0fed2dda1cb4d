/// <reference lib="dom" />
/** Calls `fn` every `ms` while the component is mounted and the page is visible. */

import { useEffect, useRef } from "preact/hooks";

export function useInterval(fn: () => unknown, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState === "visible") ref.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms]);
}
