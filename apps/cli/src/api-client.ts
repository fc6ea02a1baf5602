import { CliError, EXIT, exitCodeOf } from './exit-codes';

/** The longest a single REST call may take before the CLI gives up on it. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Answer<T> {
  status: number;
  body: T;
}

/** decision-api over HTTP (keep-alive, Node's fetch), with the key as a bearer token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly key: string | undefined,
  ) {}

  /** The answer of a 2xx; anything else becomes a CliError naming the problem's detail. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.send<T>(method, path, body);
    return answer.body;
  }

  /** Like call, but 404 is an answer (undefined), not an error. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.call<T>('GET', path);
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.notFound) return undefined;
      throw error;
    }
  }

  async send<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(this.key ? { authorization: `Bearer ${this.key}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new CliError(`cannot reach ${this.baseUrl} (${cause})`, EXIT.unavailable);
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    if (response.ok) return { status: response.status, body: parsed as T };
    const problem = (parsed ?? {}) as { title?: string; detail?: string; errors?: string[] };
    const detail = [problem.detail ?? problem.title ?? text, ...(problem.errors ?? [])]
      .filter(Boolean)
      .join('; ');
    throw new CliError(
      `${method} ${path} answered ${response.status}: ${detail}`,
      exitCodeOf(response.status),
      parsed,
    );
  }
}
