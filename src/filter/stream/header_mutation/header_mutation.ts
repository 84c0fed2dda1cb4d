/** Applies configured header additions and removals to requests and responses. Stateless. */

import type { HeaderMap } from "../../../protocol/header_map.ts";
import type { StreamInfo } from "../../../stream/stream_info.ts";
import {
  type StreamFilterCallbacks,
  StreamFilterStatus,
  type StreamReceiverFilter,
  type StreamSenderFilter,
} from "../types.ts";
import type { HeaderMutation } from "./config.ts";

/** Runs `list` in order on `headers`. */
export function applyHeaderMutations(
  headers: HeaderMap,
  list: readonly HeaderMutation[],
  info: StreamInfo,
): void {
  for (const m of list) {
    if (m.op === "remove") {
      headers.delete(m.name);
      continue;
    }
    let value: string;
    if (typeof m.value === "string") value = m.value;
    else {
      value = m.value.format(info, "");
      if (value === "") continue;
    }
    switch (m.action) {
      case "join": {
        const old = headers.get(m.name);
        if (!old) headers.set(m.name, value);
        else if (m.name.toLowerCase() === "set-cookie") headers.add(m.name, value);
        else headers.set(m.name, `${old},${value}`);
        break;
      }
      case "add":
        headers.add(m.name, value);
        break;
      case "add_if_absent":
        if (!headers.has(m.name)) headers.add(m.name, value);
        break;
      case "overwrite":
        headers.set(m.name, value);
        break;
      case "overwrite_if_exists":
        if (headers.has(m.name)) headers.set(m.name, value);
        break;
    }
  }
}

export class RequestHeaderMutation implements StreamReceiverFilter {
  readonly #list: readonly HeaderMutation[];

  constructor(list: readonly HeaderMutation[]) {
    this.#list = list;
  }

  onRequestHeaders(cb: StreamFilterCallbacks): StreamFilterStatus {
    applyHeaderMutations(cb.requestHeaders, this.#list, cb.info);
    return StreamFilterStatus.Continue;
  }
}

export class ResponseHeaderMutation implements StreamSenderFilter {
  readonly #list: readonly HeaderMutation[];

  constructor(list: readonly HeaderMutation[]) {
    this.#list = list;
  }

  onResponseHeaders(cb: StreamFilterCallbacks, headers: HeaderMap): StreamFilterStatus {
    applyHeaderMutations(headers, this.#list, cb.info);
    return StreamFilterStatus.Continue;
  }
}
