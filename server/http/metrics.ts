/**
 * Prometheus metrics served at /metrics: HTTP requests and latencies by route, resolutions by
 * request kind, strategy, branch and situation, and errors by catalogue code.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'idsync_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'idsync_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly resolutions = new Counter({
    name: 'idsync_resolutions_total',
    help: 'Identity resolutions by request kind, strategy, branch and situation',
    labelNames: ['kind', 'strategy', 'branch', 'situation', 'created'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'idsync_errors_total',
    help: 'Failed requests by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exposes the SQL statements the server has run (SPEC DR-1), read from the connection's own
   * counter when scraped, so counting costs the hot path one increment.
   */
  countStatements(read: () => number): void {
    new Counter({
      name: 'idsync_sql_statements_total',
      help: 'SQL statements run on the SQLite connection (transaction control included)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
}
