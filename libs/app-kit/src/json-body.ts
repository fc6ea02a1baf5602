/**
 * express.json's rules (strict) and its error messages: an empty body is `{}`, only an object
 * or an array is accepted, and what does not parse is a SyntaxError (Nest answers 400 to one)
 * worded as body-parser words it, so both platforms give the same problem detail.
 */
export function parseJsonBody(text: string): { value: unknown } | { error: BodySyntaxError } {
  if (text.length === 0) return { value: {} };
  // JSON's own whitespace only; '' when there is nothing else (a strict violation too).
  const first = /^[ \t\n\r]*([^ \t\n\r]|$)/.exec(text)![1];
  try {
    if (first !== '{' && first !== '[') throw strictViolation(text, first);
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: new BodySyntaxError((error as Error).message) };
  }
}

/**
 * body-parser's wording for JSON that is not an object or array: what JSON.parse says of the
 * text with everything from its first character masked, the mask then shown as the text.
 * Whitespace alone masks nothing: "Unexpected end of JSON input".
 */
function strictViolation(text: string, first: string): SyntaxError {
  const at = first === '' ? -1 : text.indexOf(first);
  try {
    JSON.parse(at === -1 ? '' : text.slice(0, at) + '#'.repeat(text.length - at));
    return new BodySyntaxError('strict violation');
  } catch (error) {
    const message = (error as Error).message.replace(/#+/g, (run) =>
      text.slice(at, at + run.length),
    );
    return new BodySyntaxError(message);
  }
}

/** A body that does not parse: Nest answers a SyntaxError with status 400 as a 400. */
export class BodySyntaxError extends SyntaxError {
  readonly status = 400;
}
