/** PromQL functions, aggregations and keywords: identifiers that are not series names. */
const NOT_NAMES = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'predict_linear', 'histogram_quantile', 'abs', 'absent', 'absent_over_time',
  'clamp', 'clamp_min', 'clamp_max', 'ceil', 'floor', 'round', 'sqrt', 'exp', 'ln', 'log2', 'log10', 'vector', 'scalar', 'time', 'timestamp',
  'label_replace', 'label_join', 'sort', 'sort_desc', 'changes', 'resets',
  'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'quantile_over_time', 'stddev_over_time',
]);

/**
 * The series names a PromQL expression reads, in order, without repeats. Strings, label matchers,
 * grouping clauses, range and number literals are removed first.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    if (NOT_NAMES.has(name) || /^(Inf|NaN)$/i.test(name) || names.includes(name)) continue;
    names.push(name);
  }
  return names;
}
