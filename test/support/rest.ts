/** One REST answer as the e2e tests look at it: status, headers and the parsed JSON body. */
export interface RestAnswer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/**
 * Calls decision-api at `baseUrl` with `key` as the bearer key (none when undefined); `body` is
 * sent as JSON, `raw` as is (to send what is not JSON).
 */
export async function callRest(
  baseUrl: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined || options.raw !== undefined)
    headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : {} };
}
