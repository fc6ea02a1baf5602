import { z } from 'zod';
import { describeField } from './load-config';

export interface SettingDoc {
  name: string;
  expects: string;
  /** `required`, `optional`, or the default value as the app sees it. */
  fallback: string;
}

/** Every setting of a config schema, for the generated configuration reference. */
export function describeSchema(schema: z.ZodObject): SettingDoc[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const parsed = field.safeParse(undefined);
    const fallback = !parsed.success
      ? 'required'
      : parsed.data === undefined
        ? 'optional'
        : `\`${Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data)}\``;
    return { name, expects: describeField(field) ?? 'a value', fallback };
  });
}

/** The reference as Markdown: one table per app. */
export function configReference(apps: { name: string; schema: z.ZodObject }[]): string {
  const sections = apps.map(({ name, schema }) => {
    const rows = describeSchema(schema).map(
      (s) => `| \`${s.name}\` | ${s.expects.replace(/\|/g, '\\|')} | ${s.fallback} |`,
    );
    return [`### ${name}`, '', '| setting | expects | default |', '|---|---|---|', ...rows].join(
      '\n',
    );
  });
  return sections.join('\n\n');
}
