/** A configuration that cannot be used: start-up stops with this one-line message. */
export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly problems: readonly string[],
  ) {
    super(`${app}: invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}
