import { SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RememberingReflector } from './remembering-reflector';

const ROLE = 'test:role';
const LIMIT = 'test:limit';

@SetMetadata(ROLE, 'class-role')
class Controller {
  @SetMetadata(ROLE, 'handler-role')
  decorated(): void {}

  plain(): void {}
}

describe('RememberingReflector', () => {
  const handlers = {
    decorated: Object.getOwnPropertyDescriptor(Controller.prototype, 'decorated')!.value as object,
    plain: Object.getOwnPropertyDescriptor(Controller.prototype, 'plain')!.value as object,
  };

  it("answers as Nest's Reflector: the handler's value, else the class's, else undefined", () => {
    const nest = new Reflector();
    const remembering = new RememberingReflector();
    for (const key of [ROLE, LIMIT])
      for (const handler of [handlers.decorated, handlers.plain])
        for (let asked = 0; asked < 2; asked += 1)
          expect(remembering.getAllAndOverride(key, [handler, Controller])).toEqual(
            nest.getAllAndOverride(key, [handler as never, Controller]),
          );
    expect(remembering.getAllAndOverride(ROLE, [handlers.decorated, Controller])).toBe(
      'handler-role',
    );
    expect(remembering.getAllAndOverride(ROLE, [handlers.plain, Controller])).toBe('class-role');
    expect(remembering.getAllAndOverride(LIMIT, [handlers.plain, Controller])).toBeUndefined();
  });

  it('reads the metadata once per key and targets, absent metadata included', () => {
    const remembering = new RememberingReflector();
    const read = jest.spyOn(Reflect, 'getMetadata');
    try {
      remembering.getAllAndOverride(ROLE, [handlers.decorated, Controller]);
      remembering.getAllAndOverride(LIMIT, [handlers.plain, Controller]);
      const first = read.mock.calls.length;
      expect(first).toBeGreaterThan(0);
      for (let asked = 0; asked < 5; asked += 1) {
        remembering.getAllAndOverride(ROLE, [handlers.decorated, Controller]);
        remembering.getAllAndOverride(LIMIT, [handlers.plain, Controller]);
      }
      expect(read.mock.calls.length).toBe(first);
      // Other targets are asked about anew.
      remembering.getAllAndOverride(ROLE, [handlers.plain, Controller]);
      expect(read.mock.calls.length).toBeGreaterThan(first);
    } finally {
      read.mockRestore();
    }
  });

  it('tells targets apart: the same handler under another class has its own answer', () => {
    @SetMetadata(ROLE, 'other-class-role')
    class Other {}
    const remembering = new RememberingReflector();
    expect(remembering.getAllAndOverride(ROLE, [handlers.plain, Controller])).toBe('class-role');
    expect(remembering.getAllAndOverride(ROLE, [handlers.plain, Other])).toBe('other-class-role');
    expect(remembering.getAllAndOverride(ROLE, [Other])).toBe('other-class-role');
  });
});
