import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';

/**
 * markdown-it's block tokenizer, tuned, for the documents the line scanner (line-scan.ts) does not
 * read. A module of its own so that markdown-it loads only when such a document is scanned
 * (markdown.ts requires it on first use): `factory status` on plain documents never loads it.
 */

type Nesting = Token['nesting'];

// One shared instance: the block rules we need, nothing else. `html: true` so that raw HTML blocks
// are recognised as such and their content is not mistaken for tables or headings.
const md = new MarkdownIt('default', { html: true, linkify: false, typographer: false });
md.block.ruler.disable('table');

/**
 * markdown-it 15's Token constructor initialises its 13 fields through a transpiled
 * `_defineProperty` helper; on the corpus that helper and the garbage it leaves were half of the
 * block pass. A lean constructor with the same fields and prototype (so `attrSet`, `instanceof`
 * keep working) makes the pass ~2.5× faster. `push` is copied from StateBlock.push.
 * test/unit/ssot/markdown.test.ts checks the token stream is identical to stock markdown-it's.
 */
const TokenClass = new md.block.State('', md, {}, []).Token;
function LeanToken(this: Token, type: string, tag: string, nesting: Nesting): void {
  this.type = type;
  this.tag = tag;
  this.attrs = null;
  this.map = null;
  this.nesting = nesting;
  this.level = 0;
  this.children = null;
  this.content = '';
  this.markup = '';
  this.info = '';
  this.meta = null;
  this.block = false;
  this.hidden = false;
}
LeanToken.prototype = Object.create(TokenClass.prototype) as Token;
const LeanTokenCtor = LeanToken as unknown as new (type: string, tag: string, nesting: Nesting) => Token;

class LeanStateBlock extends md.block.State {
  override push(type: string, tag: string, nesting: Nesting): Token {
    const token = new LeanTokenCtor(type, tag, nesting);
    token.block = true;
    if (nesting < 0) this.level--;
    token.level = this.level;
    if (nesting > 0) this.level++;
    this.tokens.push(token);
    return token;
  }
}
md.block.State = LeanStateBlock;

/** Tokens of the block pass. */
export function blockTokens(normalized: string): Token[] {
  const tokens: Token[] = [];
  md.block.parse(normalized, md, {}, tokens);
  return tokens;
}

