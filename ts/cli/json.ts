/**
 * `--json` output: one JSON object on stdout, on one line (`--json`, `--json=short`) or indented
 * (`--json=pretty`), and with `--json` a failure as `{"error": {"code", "message", "field"?}}` on
 * stdout too, so a program reading stdout always gets an object.
 */
import { ImgforgeError } from '../errors';
import { specShape } from '../spec/schema';

export type JsonStyle = 'short' | 'pretty';

/** Usage help for the option, one text for every command. */
export function jsonHelp(what: string): string {
  return `print ${what} as one JSON object on stdout, on one line; --json=pretty indents it`;
}

/**
 * Takes `--json=STYLE` out of the arguments (commander would read `--json X` as a value and eat
 * a following spec or image path), leaving a plain `--json`: the style, or the problem with it.
 */
export function extractJsonStyle(argv: readonly string[]): { argv: string[]; style: JsonStyle | undefined; problem?: string } {
  let style: JsonStyle | undefined;
  let problem: string | undefined;
  const out = argv.map((arg, i) => {
    if (i < 2 || arg === '--') return arg;
    if (arg === '--json') {
      style ??= 'short';
      return arg;
    }
    const match = /^--json=(.*)$/.exec(arg);
    if (!match) return arg;
    if (match[1] === 'pretty' || match[1] === 'short') style = match[1];
    else problem = `${arg}: expected --json, --json=short or --json=pretty`;
    return '--json';
  });
  return { argv: out, style, problem };
}

export function formatJson(value: unknown, style: JsonStyle): string {
  return `${style === 'pretty' ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`;
}

/** A spec field a message line starts with ("partitions[0].contents: ..."), as a path. */
const FIELD = /^\s*([A-Za-z]\w*(?:\[\d+\]|\.[A-Za-z]\w*)*): /;
/** The spec's top-level keys: a field path starts with one (a file name like "image.yaml" does not). */
const TOP_LEVEL: ReadonlySet<string> = new Set(Object.keys(specShape));

/**
 * The error object for stdout: its code, message, and the spec field it names when it names
 * exactly one (a spec with several problems names them all in the message).
 */
export function errorObject(error: unknown): { error: { code: string; message: string; field?: string } } {
  if (!(error instanceof ImgforgeError)) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: { code: 'UNEXPECTED', message } };
  }
  const fields = new Set(
    error.message
      .split('\n')
      .map((line) => FIELD.exec(line)?.[1])
      .filter((field): field is string => field !== undefined && TOP_LEVEL.has(field.split(/[.[]/)[0])),
  );
  const [field] = fields;
  return { error: { code: error.code, message: error.message, ...(fields.size === 1 ? { field } : {}) } };
}
