/** PromQL keywords and operators that look like identifiers. */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression selects (not functions, aggregations, labels or keywords).
 * Enough of PromQL for dashboards and alert rules: strings, label matchers, ranges, grouping
 * clauses and `offset` are removed first, then every identifier not followed by `(` is a metric.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ')
    .replace(/(?<![a-zA-Z0-9_:.])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Grafana's built-in interval variables and the dashboard's own variables (all values) for plain PromQL. */
export function substituteGrafanaVariables(expr: string, variables: readonly string[]): string {
  return expr.replace(
    /\$(?:\{(\w+)(?::\w+)?\}|(\w+))/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      if (name === '__rate_interval' || name === '__interval') return '1m';
      if (name === '__range') return '1h';
      if (variables.includes(name)) return '.*';
      throw new Error(`unknown Grafana variable ${whole} in: ${expr}`);
    },
  );
}
