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
      const described = field && describeField(field);
      const expected = described ?? issue.message;
      const got = relevant[name];
      const shown = got === undefined ? 'it is missing' : `got ${describeValue(name, got)}`;
      // A custom rule with its own message (a file that cannot be read, a setting that needs
      // another) says why; a bare refine's "Invalid input" adds nothing to what is expected.
      const explains = issue.code === 'custom' && issue.message !== ZOD_DEFAULT_MESSAGE;
      const why = explains && described ? `: ${issue.message}` : '';
      problems.push(`${name} must be ${expected} (${shown}${why})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(app, [...new Set(problems)]);
  return (parsed as { data: z.output<S> }).data;
}

/** What zod says for a refine that was given no message. */
const ZOD_DEFAULT_MESSAGE = 'Invalid input';

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
  // Secrets never appear in messages or logs, not even when they are wrong. A file's path is
  // not a secret (PARLEY_TLS_KEY_FILE names where the key is), and is shown whole.
  const isPath = name.endsWith('_FILE');
  if (!isPath && /SECRET|KEY|PASSWORD|TOKEN/i.test(name))
    return `a value of ${value.length} characters`;
  const lengthMax = isPath ? 200 : 40;
  const shown = value.length > lengthMax ? `${value.slice(0, lengthMax)}…` : value;
  return JSON.stringify(shown);
}
