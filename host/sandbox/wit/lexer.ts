// Splits WIT source into tokens (identifiers, punctuation, versions), skipping whitespace and
// comments, and locates every syntax error by file, line and column.
import { TesseraError } from '../../errors.ts';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z][a-z0-9]*|-[A-Z][A-Z0-9]*)*$|^[A-Z][A-Z0-9]*(-[a-z][a-z0-9]*|-[A-Z][A-Z0-9]*)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export type TokenKind = 'id' | 'punct' | 'version' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** A `%`-escaped identifier: never a keyword. */
  escaped: boolean;
  line: number;
  col: number;
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
      advance((end === -1 ? text.length : end) - i);
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
      tokens.push({ kind: 'id', text: name, escaped, line: pos.line, col: pos.col });
      advance(name.length + (escaped ? 1 : 0));
    } else if (text.startsWith('->', i)) {
      tokens.push({ kind: 'punct', text: '->', escaped: false, ...at() });
      advance(2);
    } else if (c === '@' && /[0-9]/.test(text[i + 1] ?? '')) {
      const pos = at();
      advance(1);
      const version = /^[0-9A-Za-z.+-]*/.exec(text.slice(i, i + 256))![0];
      if (!SEMVER.test(version)) throw syntaxError(pos, `\`${version}\` is not a semantic version (x.y.z)`);
      tokens.push({ kind: 'version', text: version, escaped: false, line: pos.line, col: pos.col });
      advance(version.length);
    } else if ('{}()<>,;:.=/@_'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, escaped: false, ...at() });
      advance(1);
    } else {
      throw syntaxError(at(), `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'eof', text: 'end of file', escaped: false, ...at() });
  return tokens;
}
