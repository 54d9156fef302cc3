/** A Prometheus histogram as one scrape saw it, summed over the series read. */
export interface HistogramScrape {
  sum: number;
  count: number;
  /** Cumulative counts by upper bound (seconds), +Inf last. */
  buckets: [number, number][];
}

/** What a histogram counted between two scrapes. */
export interface HistogramSummary {
  count: number;
  meanMs: number;
  /** Interpolated within the bucket, as PromQL histogram_quantile does. */
  p50Ms: number;
  p99Ms: number;
}

/**
 * Scrapes histogram `name` from a /metrics endpoint, summing the series whose labels contain the
 * given values (a value matches as a substring, so a topic matches with or without its prefix).
 */
export async function scrapeHistogram(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<HistogramScrape> {
  const text = await (await fetch(metricsUrl)).text();
  const scrape: HistogramScrape = { sum: 0, count: 0, buckets: [] };
  const byBound = new Map<number, number>();
  for (const line of text.split('\n')) {
    const series = /^(\w+?)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!series || !series[1].startsWith(name)) continue;
    const pairs = Object.fromEntries([...(series[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    if (!Object.entries(labels).every(([key, value]) => pairs[key]?.includes(value))) continue;
    const value = Number(series[3]);
    if (series[1] === `${name}_sum`) scrape.sum += value;
    else if (series[1] === `${name}_count`) scrape.count += value;
    else if (series[1] === `${name}_bucket`) {
      const bound = pairs.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(pairs.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + value);
    }
  }
  scrape.buckets = [...byBound].sort((a, b) => a[0] - b[0]);
  return scrape;
}

function quantile(buckets: [number, number][], q: number): number {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, cumulative] of buckets) {
    if (cumulative >= rank) {
      // Above the last finite bound the quantile is that bound, as histogram_quantile answers.
      if (!Number.isFinite(bound)) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / Math.max(1, cumulative - lowerCount);
    }
    lowerBound = bound;
    lowerCount = cumulative;
  }
  return lowerBound;
}

export function histogramBetween(before: HistogramScrape, after: HistogramScrape): HistogramSummary {
  const count = after.count - before.count;
  const buckets = after.buckets.map(([bound, cumulative]): [number, number] => [bound, cumulative - (before.buckets.find(([other]) => other === bound)?.[1] ?? 0)]);
  return {
    count,
    meanMs: count ? ((after.sum - before.sum) / count) * 1000 : Number.NaN,
    p50Ms: quantile(buckets, 0.5) * 1000,
    p99Ms: quantile(buckets, 0.99) * 1000,
  };
}
