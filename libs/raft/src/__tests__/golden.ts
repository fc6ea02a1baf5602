import { Mismatch, parseScript, rewriteScript, runScript } from './datadriven';
import { InteractionEnv } from './interaction-env';

/**
 * Runs one golden script (its name and text) in a fresh InteractionEnv: returns the script
 * rewritten with the actual outputs and the commands whose output differed. Pure: the spec
 * reads and writes the files.
 */
export function runGoldenScript(
  name: string,
  text: string,
): { rewritten: string; mismatches: Mismatch[] } {
  const cases = parseScript(name, text);
  const env = new InteractionEnv(name);
  const { actual, mismatches } = runScript(cases, (c) => env.run(c));
  return { rewritten: rewriteScript(text, cases, actual), mismatches };
}
