/** A URL fit for logs: any user name, password or token in it is replaced by `***`. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username) url.username = '***';
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()])
      if (/token|secret|key|pass/i.test(key)) url.searchParams.set(key, '***');
    return url.toString();
  } catch {
    return '<unparseable url>';
  }
}
