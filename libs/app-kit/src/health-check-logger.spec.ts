import { Logger } from '@nestjs/common';
import { HealthCheckLogger } from './health-check-logger';

describe('HealthCheckLogger', () => {
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs a failed check at warn, not error, and a repeat of the same failure once', () => {
    const logger = new HealthCheckLogger();
    const failure = 'Health Check has failed! {"quorum":{"leader":null,"status":"down"}}';
    logger.error(failure);
    logger.error(failure);
    logger.error(failure);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(failure);
    expect(error).not.toHaveBeenCalled();
  });

  it('logs a different failure again, and the first one again after it', () => {
    const logger = new HealthCheckLogger();
    logger.error('Health Check has failed! {"quorum":{"status":"down"}}');
    logger.error('Health Check has failed! {"crdt":{"status":"down"}}');
    logger.error('Health Check has failed! {"quorum":{"status":"down"}}');
    expect(warn).toHaveBeenCalledTimes(3);
  });
});
