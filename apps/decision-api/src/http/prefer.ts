/**
 * Does a `Prefer` header (RFC 7240) ask for `respond-async`? Preferences are comma-separated,
 * each a token with optional `=value` and `;` parameters; tokens are case-insensitive.
 */
export function prefersRespondAsync(prefer: string | string[] | undefined): boolean {
  if (prefer === undefined) return false;
  const values = Array.isArray(prefer) ? prefer : [prefer];
  return values.some((value) =>
    value.split(',').some((preference) => {
      const token = preference.split(/[;=]/, 1)[0].trim().toLowerCase();
      return token === 'respond-async';
    }),
  );
}
