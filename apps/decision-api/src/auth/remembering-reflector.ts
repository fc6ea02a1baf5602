import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

/** An answer per target list: keyed by the first target, then the next, … (WeakMaps). */
interface Answers {
  byTarget: WeakMap<object, Answers>;
  value?: { found: unknown };
}

/**
 * Nest's Reflector, remembering what `getAllAndOverride` answered for a metadata key and a list
 * of targets. The global guards ask it on every request (the API key guard for the route's
 * roles, the rate limiter six times for its per-route settings), and each answer walks
 * reflect-metadata's maps and prototype chain: ~7 µs of every request in decision-api's profile.
 * Route metadata is written by decorators when the classes are defined and never afterwards, so
 * an answer once read stays right for the life of the process.
 */
@Injectable()
export class RememberingReflector extends Reflector {
  private readonly byKey = new Map<unknown, Answers>();

  override getAllAndOverride<T = unknown>(
    metadataKeyOrDecorator: unknown,
    targets: (object | undefined)[],
  ): T {
    let answers: Answers | undefined = this.byKey.get(metadataKeyOrDecorator);
    if (!answers) {
      answers = { byTarget: new WeakMap() };
      this.byKey.set(metadataKeyOrDecorator, answers);
    }
    for (const target of targets) {
      // Only classes and functions are remembered (a WeakMap key); anything else asks anew.
      if (typeof target !== 'function' && (typeof target !== 'object' || target === null))
        return super.getAllAndOverride(metadataKeyOrDecorator as string, targets as never) as T;
      let next: Answers | undefined = answers.byTarget.get(target);
      if (!next) {
        next = { byTarget: new WeakMap() };
        answers.byTarget.set(target, next);
      }
      answers = next;
    }
    answers.value ??= {
      found: super.getAllAndOverride(metadataKeyOrDecorator as string, targets as never),
    };
    return answers.value.found as T;
  }
}
