// Splits WIT source into tokens (identifiers, punctuation, versions), skipping whitespace and
// comments (a `///` doc comment is kept on the token it documents), and locates every syntax
// error by file, line and column.
import { TesseraError } from '../../errors.ts';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*|-[A-Z][A-Z0-9]*)*$|^[A-Z][A-Z0-9]*(-[a-z][a-z0-9]*|-[A-Z][A-Z0-9]*)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export type TokenKind = 'id' | 'punct' | 'version' | 'since' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** A `%`-escaped identifier: never a keyword. */
  escaped: boolean;
  line: number;
  col: number;
  /** The `///` doc comment lines just before the token, without their `///` (and one space). */
  docs?: string;
}

export interface Pos {
  file: string;
  line: number;
  col: number;
}

export function syntaxError(pos: Pos, message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', `${pos.file}:${pos.line}:${pos.col}: ${message}`);
}

export function lex(file: string, text: string): Token[] {
  const tokens: Token[] = [];
  // `///` lines seen since the last token: they document the next one.
  let docs: string[] = [];
  const push = (token: Token): void => {
    if (docs.length > 0) token.docs = docs.join('\n');
    docs = [];
    tokens.push(token);
  };
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (): Pos => ({ file, line, col: i - lineStart + 1 });
  const advance = (n: number): void => {
    for (let k = 0; k < n; k++, i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      advance(1);
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      if (text.startsWith('///', i) && !text.startsWith('////', i)) docs.push(text.slice(i + 3, stop).replace(/^ /, '').trimEnd());
      advance(stop - i);
    } else if (text.startsWith('/*', i)) {
      const start = at();
      let depth = 0;
      do {
        if (i >= text.length) throw syntaxError(start, 'unterminated block comment');
        if (text.startsWith('/*', i)) {
          depth++;
          advance(2);
        } else if (text.startsWith('*/', i)) {
          depth--;
          advance(2);
        } else {
          advance(1);
        }
      } while (depth > 0);
    } else if (/[%a-zA-Z]/.test(c)) {
      const pos = at();
      const escaped = c === '%';
      const m = /^[a-zA-Z0-9_-]*/.exec(text.slice(escaped ? i + 1 : i, i + 257))!;
      const name = m[0];
      if (!KEBAB.test(name)) {
        throw syntaxError(pos, `\`${escaped ? '%' : ''}${name}\` is not a valid WIT identifier: use kebab-case words, each starting with a letter, all lowercase or all uppercase`);
      }
      push({ kind: 'id', text: name, escaped, line: pos.line, col: pos.col });
      advance(name.length + (escaped ? 1 : 0));
    } else if (text.startsWith('->', i)) {
      push({ kind: 'punct', text: '->', escaped: false, ...at() });
      advance(2);
    } else if (text.startsWith('@since', i)) {
      // `@since(version = x.y.z)`, one token whose text is the version. It leaves the `///`
      // lines before it to the item it gates, which they document.
      const pos = at();
      const m = /^@since\s*\(\s*version\s*=\s*([0-9A-Za-z.+-]*)\s*\)/.exec(text.slice(i, i + 300));
      if (!m) throw syntaxError(pos, 'expected `@since(version = x.y.z)`');
      if (!SEMVER.test(m[1]!)) throw syntaxError(pos, `\`${m[1]}\` is not a semantic version (x.y.z)`);
      tokens.push({ kind: 'since', text: m[1]!, escaped: false, line: pos.line, col: pos.col });
      advance(m[0].length);
    } else if (c === '@' && /[0-9]/.test(text[i + 1] ?? '')) {
      const pos = at();
      advance(1);
      const version = /^[0-9A-Za-z.+-]*/.exec(text.slice(i, i + 256))![0];
      if (!SEMVER.test(version)) throw syntaxError(pos, `\`${version}\` is not a semantic version (x.y.z)`);
      push({ kind: 'version', text: version, escaped: false, line: pos.line, col: pos.col });
      advance(version.length);
    } else if ('{}()<>,;:.=/@_'.includes(c)) {
      push({ kind: 'punct', text: c, escaped: false, ...at() });
      advance(1);
    } else {
      throw syntaxError(at(), `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'eof', text: 'end of file', escaped: false, ...at() });
  return tokens;
}
