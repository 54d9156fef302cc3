/**
 * Reads one sample of a service's Prometheus exposition (its `metricsUrl`), e.g.
 * db_statements_total{pool="auth",outcome="ok"}.
 */
export async function readMetric(metricsUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const present = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(line.split(' ').at(-1));
  }
  return 0;
}
