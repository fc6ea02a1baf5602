import { json } from 'express';
import { Readable } from 'node:stream';
import { BodySyntaxError, parseJsonBody } from './json-body';

/** What express.json (body-parser, strict) makes of a JSON body: the value or the error's words. */
function viaExpressJson(text: string): Promise<{ value: unknown } | { message: string }> {
  const request = Object.assign(Readable.from([Buffer.from(text)]), {
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    },
  }) as Readable & { headers: Record<string, string>; body?: unknown };
  return new Promise((resolve) =>
    json()(request as never, {} as never, (error?: unknown) =>
      resolve(error ? { message: (error as Error).message } : { value: request.body }),
    ),
  );
}

describe('parseJsonBody (Fastify) parses as express.json does', () => {
  it.each([
    '{"a":1}',
    '[1,2]',
    '  {"nested":{"b":[true,null]}}',
    '',
    '   ',
    '{"requestId": "x", "value": ',
    '"just a string"',
    '  42',
    'true',
    'null',
    '{bad}',
    '{"a":1}x',
  ])('%j', async (text) => {
    const expected = await viaExpressJson(text);
    const parsed = parseJsonBody(text);
    if ('value' in expected) expect(parsed).toEqual({ value: expected.value });
    else {
      expect('error' in parsed && parsed.error).toBeInstanceOf(BodySyntaxError);
      expect(
        'error' in parsed && { message: parsed.error.message, status: parsed.error.status },
      ).toEqual({
        message: expected.message,
        status: 400,
      });
    }
  });
});
