/** PromQL words that are not metric names: operators, modifiers and the aggregation clauses' keywords. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression (an alert rule or a dashboard panel) reads. Label matchers,
 * strings, ranges, label lists of by/on/… clauses, function names and Grafana variables are not
 * names; a histogram is read through its _bucket, _sum or _count series, which stay as written.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (call || KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names].sort();
}

interface DashboardPanel {
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}

/** Every PromQL expression of a Grafana dashboard's panels (rows' nested panels included). */
export function panelExpressions(dashboard: { panels?: DashboardPanel[] }): string[] {
  const walk = (panels: DashboardPanel[] = []): string[] =>
    panels.flatMap((panel) => [...(panel.targets ?? []).flatMap((target) => (target.expr ? [target.expr] : [])), ...walk(panel.panels)]);
  return walk(dashboard.panels);
}
