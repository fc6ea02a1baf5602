import { z } from 'zod';
import { ConfigError } from './config-error';

/**
 * Validates the environment once, at start-up (DESIGN.md §3: nothing else reads process.env).
 * Unknown PARLEY_* variables are refused too, because a typo in a setting name must not be
 * silently ignored.
 */
export function loadConfig<S extends z.ZodObject>(
  app: string,
  schema: S,
  env: Record<string, string | undefined>,
  knownPrefix = 'PARLEY_',
): z.output<S> {
  const known = new Set(Object.keys(schema.shape));
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith(knownPrefix) && !known.has(name) && !ignoredNames.has(name)) {
      problems.push(`${name} is not a setting of ${app}`);
    }
  }
  const relevant: Record<string, string> = {};
  for (const name of known) {
    const value = env[name];
    if (value !== undefined && value !== '') relevant[name] = value;
  }
  const parsed = schema.safeParse(relevant);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(root)');
      const field = schema.shape[name] as z.ZodType | undefined;
      const expected = (field && describeField(field)) ?? issue.message;
      const got = relevant[name];
      const shown = got === undefined ? 'it is missing' : `got ${describeValue(name, got)}`;
      problems.push(`${name} must be ${expected} (${shown})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(app, [...new Set(problems)]);
  return (parsed as { data: z.output<S> }).data;
}

/** Settings read by the launcher, not by the apps themselves. */
const ignoredNames = new Set(['PARLEY_APP']);

/** The description of a field, looking through optional/default/pipe wrappers. */
export function describeField(field: z.ZodType): string | undefined {
  let current: z.ZodType | undefined = field;
  for (let depth = 0; current && depth < 8; depth += 1) {
    if (current.description) return current.description;
    const inner: unknown = (current as unknown as { def?: { innerType?: unknown; in?: unknown } })
      .def;
    const def = inner as { innerType?: z.ZodType; in?: z.ZodType } | undefined;
    current = def?.innerType ?? def?.in;
  }
  return undefined;
}

function describeValue(name: string, value: string): string {
  // Secrets never appear in messages or logs, not even when they are wrong.
  if (/SECRET|KEY|PASSWORD|TOKEN/i.test(name)) return `a value of ${value.length} characters`;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}
