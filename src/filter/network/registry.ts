/** The network filter registry, keyed by the config `type` string; built-ins listed here. */

import { Registry } from "../../common/registry.ts";
import { proxyFactory } from "./proxy/factory.ts";
import { tcpProxyFactory } from "./tcp_proxy/factory.ts";
import type { NetworkFilterFactory } from "./types.ts";

export const networkFilters = new Registry<NetworkFilterFactory>("network filter");

networkFilters.register(tcpProxyFactory.type, tcpProxyFactory as NetworkFilterFactory);
networkFilters.register(proxyFactory.type, proxyFactory as NetworkFilterFactory);
