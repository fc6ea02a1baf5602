import { resumePoint, sse, wants, wantsAlerts } from './watch-filter';

const event = {
  index: 4,
  type: 'inventory.reserve',
  entity: 'inventory/sku-1',
  result: { status: 'accepted' },
  decidedBy: 'command' as const,
};

describe('what a watcher wants', () => {
  it('matches any of the entity prefixes and any of the types', () => {
    expect(wants({}, event)).toBe(true);
    expect(wants({ prefixes: ['kv/', 'inventory/'] }, event)).toBe(true);
    expect(wants({ prefixes: ['inventory/sku-2'] }, event)).toBe(false);
    expect(wants({ types: ['proposal.decided'] }, event)).toBe(false);
    expect(wants({ types: ['inventory.reserve'], prefixes: ['inventory/'] }, event)).toBe(true);
    expect(wantsAlerts({ types: ['inventory.reserve'] })).toBe(false);
    expect(wantsAlerts({ types: ['alert'] })).toBe(true);
  });
});

describe('the resume point', () => {
  it('takes fromIndex over Last-Event-ID and refuses an id that is not an index', () => {
    expect(resumePoint(5, '9')).toEqual({ ok: true, index: 5 });
    expect(resumePoint(undefined, '9')).toEqual({ ok: true, index: 9 });
    expect(resumePoint(undefined, undefined)).toEqual({ ok: true, index: undefined });
    expect(resumePoint(undefined, '9; drop')).toMatchObject({ ok: false });
  });
});

describe('event frames', () => {
  it('carry the index as the id and the event as one data line', () => {
    expect(sse.decision(event)).toBe(`event: decision\nid: 4\ndata: ${JSON.stringify(event)}\n\n`);
  });
});
