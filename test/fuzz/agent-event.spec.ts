import { parseAgentEvent } from '../../apps/decision-api/src/kafka/agent-event';
import { fuzzTest } from './harness';
import { agentEventTarget } from './targets/agent-event';

describe('fuzz: Kafka agent-event parser', () => {
  fuzzTest(agentEventTarget);

  describe('regressions', () => {
    it('agent-event counterexample: a "__proto__" type is dead-lettered, not thrown', () => {
      // fast-check seed 1517775371, path "494:0:0:0:0:0:0:6:7:2:2:11".
      const record = Buffer.from('{"type":"__proto__","requestId":" ","sku":"a","quantity":1}');
      expect(() => agentEventTarget.execute(record)).not.toThrow();
      expect(parseAgentEvent(record)).toEqual({ ok: false, reason: 'unknown type "__proto__"' });
    });

    it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
      'a type naming an Object.prototype member (%s) is an unknown type',
      (type) => {
        const record = Buffer.from(JSON.stringify({ type, requestId: 'r1' }));
        expect(parseAgentEvent(record)).toEqual({ ok: false, reason: `unknown type "${type}"` });
      },
    );
  });
});
