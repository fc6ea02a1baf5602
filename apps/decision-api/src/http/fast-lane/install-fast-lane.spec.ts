import { CanActivate, ExceptionFilter, NestInterceptor, PipeTransform } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { assertNothingSkipped } from './install-fast-lane';

describe('assertNothingSkipped: the fast lane refuses to start when it would skip Nest work', () => {
  const first: CanActivate = { canActivate: () => true };
  const second: CanActivate = { canActivate: () => true };
  const filter: ExceptionFilter = { catch: () => undefined };

  function config(): ApplicationConfig {
    const made = new ApplicationConfig();
    made.addGlobalGuard(first);
    made.addGlobalGuard(second);
    made.addGlobalFilter(filter);
    return made;
  }

  it('accepts exactly the guards (in order) and the filter it runs', () => {
    expect(() => assertNothingSkipped(config(), [first, second], filter)).not.toThrow();
  });

  it('refuses a guard it was not given, or the guards in another order', () => {
    expect(() => assertNothingSkipped(config(), [first], filter)).toThrow(/global guards/);
    expect(() => assertNothingSkipped(config(), [second, first], filter)).toThrow(/global guards/);
  });

  it('refuses a global pipe or interceptor, which it would not run', () => {
    const withPipe = config();
    withPipe.addGlobalPipe({ transform: (value: unknown) => value } as PipeTransform);
    expect(() => assertNothingSkipped(withPipe, [first, second], filter)).toThrow(/global pipes/);
    const withInterceptor = config();
    withInterceptor.addGlobalInterceptor({
      intercept: (_c, next) => next.handle(),
    } as NestInterceptor);
    expect(() => assertNothingSkipped(withInterceptor, [first, second], filter)).toThrow(
      /global interceptors/,
    );
  });

  it('refuses another filter', () => {
    const other: ExceptionFilter = { catch: () => undefined };
    expect(() => assertNothingSkipped(config(), [first, second], other)).toThrow(/filters/);
  });
});
