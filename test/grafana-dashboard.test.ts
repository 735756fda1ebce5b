import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hubMetrics } from '../src/http/metrics';
import type { Db } from '../src/storage/db';

/**
 * The Grafana dashboard (docs/grafana-dashboard.json, docs/operations.md "Metrics") queries only
 * metrics the hub exposes, with labels they have, and shows every metric the hub exposes.
 */

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Panel[];
  __inputs: { name: string }[];
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** The hub's metrics by name, with their label names (no database is asked: nothing is collected). */
const exposed = new Map<string, { type: string; labels: string[] }>(
  hubMetrics({} as Db, () => new Date())
    .registry.getMetricsAsArray()
    .map((m) => {
      const x = m as unknown as { name: string; type: string; labelNames: string[] };
      return [x.name, { type: String(x.type), labels: x.labelNames }];
    }),
);

/** A series name as queried, back to its metric: a histogram's _bucket, _sum and _count are the histogram. */
function metricOf(series: string): string {
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && exposed.get(base)?.type === 'histogram' ? base : series;
}

describe('docs/grafana-dashboard.json', () => {
  it('has panels with queries, on a Prometheus data source chosen at import', () => {
    expect(dashboard.uid).toBe('fmar-hub');
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect(exprs.length).toBe(19);
  });

  it('queries only metrics the hub exposes, and only their labels', () => {
    const labelsOf = (name: string) => [...exposed.get(name)!.labels, ...(exposed.get(name)!.type === 'histogram' ? ['le'] : [])];
    for (const { panel, expr } of exprs) {
      const names = [...expr.matchAll(/\b(fmar_[a-z_]+)\b/g)].map((m) => metricOf(m[1]));
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) expect(exposed.has(n), `${panel}: ${n}`).toBe(true);
      // Selector labels ({code=~"…"}) belong to the metric they select; grouping labels to one of the metrics queried.
      for (const m of expr.matchAll(/\b(fmar_[a-z_]+)\{([^}]*)\}/g))
        for (const [, label] of m[2].matchAll(/([a-z_]+)\s*=~?/g)) expect(labelsOf(metricOf(m[1])), `${panel}: ${label}`).toContain(label);
      const allowed = new Set([...names.flatMap(labelsOf), 'instance']);
      for (const m of expr.matchAll(/\bby \(([^)]*)\)/g))
        for (const label of m[1].split(',').map((l) => l.trim())) expect(allowed.has(label), `${panel}: by ${label}`).toBe(true);
    }
  });

  it('shows every metric the hub exposes', () => {
    const queried = new Set(exprs.flatMap(({ expr }) => [...expr.matchAll(/\b(fmar_[a-z_]+)\b/g)].map((m) => metricOf(m[1]))));
    expect([...exposed.keys()].filter((n) => !queried.has(n))).toEqual([]);
  });
});
