import { constants } from 'node:fs';
import { appendFlags } from './durable-append';

describe('appendFlags', () => {
  it('adds O_DSYNC only for durable appends, and O_EXCL only for a file that must be new', () => {
    const base = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
    expect(appendFlags(false, 'create')).toBe(base);
    expect(appendFlags(true, 'create')).toBe(base | constants.O_DSYNC);
    expect(appendFlags(true, 'exclusive')).toBe(base | constants.O_EXCL | constants.O_DSYNC);
  });
});
