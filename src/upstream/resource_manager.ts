/** Circuit-breaker counters of one cluster: MOSN's circuit_breakers[0], 0 meaning unlimited. */

import type { CircuitBreakersConfig } from "../config/model.ts";

export class Resource {
  readonly max: number;
  count = 0;
  constructor(max: number) {
    this.max = max;
  }
  /** True while one more may be taken. */
  get available(): boolean {
    return this.max === 0 || this.count < this.max;
  }
  inc(): void {
    this.count++;
  }
  dec(): void {
    if (this.count > 0) this.count--;
  }
}

export class ResourceManager {
  readonly connections: Resource;
  readonly pendingRequests: Resource;
  readonly requests: Resource;
  readonly retries: Resource;
  constructor(cb: CircuitBreakersConfig) {
    this.connections = new Resource(cb.maxConnections);
    this.pendingRequests = new Resource(cb.maxPendingRequests);
    this.requests = new Resource(cb.maxRequests);
    this.retries = new Resource(cb.maxRetries);
  }
}
