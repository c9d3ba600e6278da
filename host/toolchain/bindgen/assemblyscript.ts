// The AssemblyScript SDK's side of the generated glue (sdk/assemblyscript/assembly/generated/):
// - `<interface>.ts`: the interface's WIT types as AssemblyScript enums and classes (the SDK
//   re-exports them under its public names), and for a host interface, typed calls of its imports;
// - `<interface>-abi.ts`: the lifting and lowering of those types, one function per type;
// - `<interface>-exports.ts`: for an interface a world exports, the core exports a component's
//   entry file re-exports (`export * from ".../state-exports"`), straight-line per function:
//   lift the flat arguments, call the hand-written `<interface>Implementation()`, lower the
//   result into the return area; plus `cabi_realloc` and the post-returns;
// - `abi.ts`: strings and byte lists, the helpers every other file shares.
// Offsets, sizes and discriminants all come from the model; the SDK's hand-written memory
// discipline (memory.ts: cabi_realloc's blocks, the per-call arena) holds none.
// This file writes the exports and imports and the files; assemblyscript-types.ts spells the
// types, assemblyscript-lifting.ts writes the lifting and lowering.
import type { WitFunction, WitPackage, WitType } from '../../sandbox/wit/ast.ts';
import { abiFile, Helpers } from './assemblyscript-lifting.ts';
import {
  asType,
  defaultValue,
  FileText,
  isBytes,
  MEMORY,
  PRIMITIVES,
  someValue,
  typeDeclarations,
  typeName,
  uint,
  unsupported,
  useTypeNames,
  witName,
} from './assemblyscript-types.ts';
import {
  camel,
  generatedHeader,
  interfaceModel,
  interfaceRoles,
  pascal,
  recordFields,
  resolve,
  snake,
  variantLayout,
  worlds,
  type FlatParam,
  type FunctionModel,
  type GeneratedFile,
} from './model.ts';

export const AS_OUT_DIR = 'sdk/assemblyscript/assembly/generated';

/**
 * The name the SDK exports a function under: AssemblyScript cannot spell
 * `tessera:components/state@0.1.0#bulk-get`, so it exports `tessera_state_bulk_get` and the
 * builder (host/toolchain/assemblyscript.ts) renames it, and `cabi_post_<it>` likewise.
 */
export function asExportName(pkg: WitPackage, iface: string, fn: string): string {
  return `${snake(pkg.namespace)}_${snake(iface)}_${snake(fn)}`;
}

/**
 * The field of an export's hand-written result class (`GetResult`, ...) that holds the `ok`
 * value: the SDK's idiomatic names. A function not listed calls it `value`.
 */
const OK_FIELDS = new Map<string, string>([
  ['get', 'response'],
  ['bulk-get', 'items'],
  ['bulk-publish', 'failures'],
  ['subscribe', 'id'],
  ['pull', 'messages'],
]);

function signatureComment(fn: WitFunction): string {
  const params = fn.params.map((p) => `${p.name}: ${witName(p.type)}`).join(', ');
  return `// ${fn.name}: func(${params})${fn.result === undefined ? '' : ` -> ${witName(fn.result)}`}`;
}

// ---------------------------------------------------------------------------------------
// Flat values: an export's parameters, an import's arguments.

/** A parameter or argument list on one line, or one item a line when that line would be long. */
function wrapList(items: string[], indent: string): string {
  const line = items.join(', ');
  if (line.length <= 90) return line;
  return `\n${items.map((i) => `${indent}  ${i},`).join('\n')}\n${indent}`;
}

function flatName(p: FlatParam): string {
  return camel(p.words.join('-'));
}

function flatType(p: FlatParam): string {
  if (p.core === 'i32') return p.words.length > 1 && ['ptr', 'len'].includes(p.words.at(-1)!) ? 'usize' : 'u32';
  return p.core === 'i64' ? 'u64' : p.core;
}

/** An expression lifting a `t` from the flat parameters `take` hands out in order. */
function liftFlat(h: Helpers, file: FileText, t: WitType, take: () => FlatParam): string {
  const r = resolve(t);
  switch (r.kind) {
    case 'primitive': {
      if (r.name === 'string') return `${h.liftPair(file, t)}(${flatName(take())}, ${flatName(take())})`;
      const v = flatName(take());
      if (r.name === 'bool') return `${v} != 0`;
      const type = PRIMITIVES[r.name]!;
      return ['u32', 'u64'].includes(type) ? v : `<${type}>${v}`;
    }
    case 'list':
      return `${h.liftPair(file, t)}(${flatName(take())}, ${flatName(take())})`;
    case 'enum':
      return `${h.liftEnum(file, t)}(${flatName(take())})`;
    case 'record': {
      if (t.kind !== 'named') return unsupported('an unnamed record');
      const cls = file.use(`./${t.interface}`, typeName(t.name));
      return `new ${cls}(${wrapList(r.fields.map((f) => liftFlat(h, file, f.type, take)), '  ')})`;
    }
    case 'option': {
      const some = flatName(take());
      const inner = someValue(file, r.inner, liftFlat(h, file, r.inner, take));
      return `${file.use(MEMORY, 'isSome')}(${some}) ? ${inner} : null`;
    }
    default:
      return unsupported(`a ${r.kind} passed flat`);
  }
}

// ---------------------------------------------------------------------------------------
// Exports: `<interface>-exports.ts`.

function exportsFile(pkg: WitPackage, h: Helpers, name: string, withRealloc: boolean): GeneratedFile {
  const model = interfaceModel(pkg, name, 'export');
  const file = new FileText(`./${name}-exports`);
  const impl = file.use(`../${name}`, `${camel(name)}Implementation`);
  const beginCall = file.use(MEMORY, 'beginCall');
  const areas = model.functions.flatMap((f) => (f.returnArea === undefined ? [] : [f.returnArea]));
  const area = { size: Math.max(0, ...areas.map((a) => a.size)), align: Math.max(1, ...areas.map((a) => a.align)) };
  const blocks: string[] = [];
  if (areas.length > 0) {
    blocks.push(`/**
 * The return area of every export whose result does not fit one core value: the host reads it
 * before the post-return. Calls never overlap, so one static area, as large as the largest result, serves all.
 */
const RET_AREA = memory.data(${area.size}, ${area.align});`);
  }
  if (withRealloc) {
    blocks.push(`export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return ${file.use(MEMORY, 'cabiRealloc')}(oldPtr, oldSize, align, newSize);
}`);
  }
  for (const fm of model.functions) blocks.push(exportFunction(pkg, h, file, fm, impl, beginCall));
  const posts = model.functions.filter((f) => f.postReturn !== undefined);
  if (posts.length > 0) {
    blocks.push(`/** The post-return of every export: what the return area points to lives in the arena (or is a lent block), released here. */
function postReturn(retArea: usize): void {
  ${file.use(MEMORY, 'endCall')}();
}

export {
${posts.map((f) => `  postReturn as cabi_post_${asExportName(pkg, name, f.fn.name)},`).join('\n')}
};`);
  }
  const head = `${generatedHeader('//')}// The exports of interface \`${name}\` in canonical ABI form. An entry file re-exports them; the
// builder renames each \`${asExportName(pkg, name, '<f>')}\` to \`${pkg.namespace}:${pkg.name}/${name}@${pkg.version}#<f>\`.
import "../abort";`;
  return { path: `${AS_OUT_DIR}/${name}-exports.ts`, text: [head + '\n' + file.importLines().join('\n'), ...blocks].join('\n\n') + '\n' };
}

function exportFunction(pkg: WitPackage, h: Helpers, file: FileText, fm: FunctionModel, impl: string, beginCall: string): string {
  const { fn } = fm;
  const lines: string[] = [`  ${beginCall}();`];
  const raws: string[] = [];
  const args: string[] = [];
  const flats = [...fm.flatParams];
  let next = 0;
  const take = (): FlatParam => flats[next++]!;
  if (fm.paramsSpill) {
    for (const f of recordFields(fn.params)) {
      lines.push(`  const ${camel(f.name)} = ${h.load(file, f.type, 'args', f.offset)};`);
      args.push(camel(f.name));
    }
    lines.push('  heap.free(args);');
  } else {
    for (const p of fn.params) {
      const v = camel(p.name);
      if (isBytes(p.type) && p.type.kind === 'list') {
        // A whole byte list (a snapshot, a chunk) is lent to the implementation in place, not copied.
        lines.push(`  const ${v} = new ${file.use(MEMORY, 'RawBytes')}(${flatName(take())}, ${flatName(take())});`);
        raws.push(v);
      } else {
        const from = next;
        const lifted = liftFlat(h, file, p.type, take);
        // A value that arrives as one core value keeps its name: it is lifted in the call.
        if (next - from === 1) {
          args.push(lifted);
          continue;
        }
        lines.push(`  const ${v} = ${lifted};`);
      }
      args.push(v);
    }
  }
  const call = `${impl}().${camel(fn.name)}(${args.join(', ')})`;
  const release = raws.map((v) => `  ${file.use(MEMORY, 'releaseRawBytes')}(${v});`);
  const result = fn.result;
  const flatParams = fm.flatParams.map((p) => `${flatName(p)}: ${flatType(p)}`);
  let returns = 'void';
  if (result === undefined) {
    lines.push(`  ${call};`, ...release);
  } else if (fm.returnArea === undefined) {
    returns = fm.flatResults[0] === 'i64' ? 'u64' : fm.flatResults[0] === 'i32' ? 'u32' : fm.flatResults[0]!;
    const r = resolve(result);
    lines.push(`  const result = ${call};`, ...release);
    lines.push(`  return ${r.kind === 'primitive' && r.name === 'bool' ? 'result ? 1 : 0' : `<${returns}>result`};`);
  } else {
    returns = 'usize';
    lines.push(...lowerResult(h, file, fn, result, call, release));
    lines.push('  return RET_AREA;');
  }
  return `${signatureComment(fn)}
export function ${asExportName(pkg, fm.iface, fn.name)}(${wrapList(flatParams, '')}): ${returns} {
${lines.join('\n')}
}`;
}

/** Statements calling the implementation and writing its answer into RET_AREA. */
function lowerResult(h: Helpers, file: FileText, fn: WitFunction, result: WitType, call: string, release: string[]): string[] {
  const r = resolve(result);
  if (isBytes(result) && result.kind === 'list') {
    // A whole byte list answered (a snapshot): the implementation's raw block is lent to the host until the post-return.
    return [`  ${file.use('./abi', 'lendRawBytes')}(RET_AREA, ${call});`, ...release];
  }
  if (r.kind !== 'result') return [`  const result = ${call};`, ...release, `  ${h.store(file, result, 'result', 'RET_AREA', 0)}`];
  if (r.err === undefined) return unsupported('a result without an error type');
  const { discriminantSize, payloadOffset } = variantLayout(r, [r.ok, r.err]);
  const d = uint(discriminantSize);
  const lines: string[] = [];
  if (r.ok === undefined) {
    lines.push(`  const error = ${call};`, ...release);
  } else {
    lines.push(`  const result = ${call};`, ...release, '  const error = result.error;');
  }
  lines.push('  if (error !== null) {', `    store<${d}>(RET_AREA, 1);`, `    ${h.store(file, r.err, 'error', 'RET_AREA', payloadOffset)}`, '  } else {', `    store<${d}>(RET_AREA, 0);`);
  if (r.ok !== undefined) lines.push(`    ${h.store(file, r.ok, `result.${OK_FIELDS.get(fn.name) ?? 'value'}`, 'RET_AREA', payloadOffset)}`);
  lines.push('  }');
  return lines;
}

// ---------------------------------------------------------------------------------------
// Imports: typed calls of a host interface, in `<interface>.ts`.

function importFunctions(pkg: WitPackage, h: Helpers, file: FileText, name: string): string[] {
  const model = interfaceModel(pkg, name, 'import');
  const blocks: string[] = [];
  const areas = model.functions.flatMap((f) => (f.returnArea === undefined ? [] : [f.returnArea]));
  if (areas.length > 0) {
    const size = Math.max(...areas.map((a) => a.size));
    const align = Math.max(...areas.map((a) => a.align));
    blocks.push(`/** Where the host writes a result that does not fit one core value. */\nconst RET_AREA = memory.data(${size}, ${align});`);
  }
  for (const fm of model.functions) blocks.push(importFunction(h, file, fm));
  return blocks;
}

function importFunction(h: Helpers, file: FileText, fm: FunctionModel): string {
  const { fn } = fm;
  const host = `host${pascal(fn.name)}`;
  const coreParams = fm.flatParams.map((p) => `${flatName(p)}: ${flatType(p)}`);
  if (fm.returnArea !== undefined) coreParams.push('retArea: usize');
  const coreResult = fm.flatResults[0] === undefined ? 'void' : fm.flatResults[0] === 'i64' ? 'u64' : fm.flatResults[0] === 'i32' ? 'u32' : fm.flatResults[0]!;
  const before: string[] = [];
  const after: string[] = [];
  const args: string[] = [];
  for (const p of fn.params) {
    const v = camel(p.name);
    const r = resolve(p.type);
    if (r.kind === 'primitive' && r.name === 'string') {
      // Encoded on the raw heap, not into a managed buffer: the call creates no garbage.
      before.push(`  const ${v}Len = <usize>String.UTF8.byteLength(${v});`, `  const ${v}Ptr = heap.alloc(${v}Len);`);
      before.push(`  String.UTF8.encodeUnsafe(changetype<usize>(${v}), ${v}.length, ${v}Ptr, false, String.UTF8.ErrorMode.REPLACE);`);
      after.push(`  heap.free(${v}Ptr);`);
      args.push(`${v}Ptr`, `${v}Len`);
    } else if (isBytes(p.type)) {
      before.push(`  const ${v}Len = <usize>${v}.length;`, `  const ${v}Ptr = heap.alloc(${v}Len);`, `  memory.copy(${v}Ptr, ${v}.dataStart, ${v}Len);`);
      after.push(`  heap.free(${v}Ptr);`);
      args.push(`${v}Ptr`, `${v}Len`);
    } else if (r.kind === 'primitive') {
      args.push(r.name === 'bool' ? `${v} ? 1 : 0` : ['u32', 'u64', 's64', 'f32', 'f64'].includes(r.name) ? v : `<u32>${v}`);
    } else if (r.kind === 'enum') {
      args.push(`<u32>${v}`);
    } else if (r.kind === 'list') {
      // Lowered into the call's arena (freed when the export making this call returns); the
      // lowerer writes the list's pointer and length into a scratch pair.
      before.push(`  const ${v}At = heap.alloc(8);`, `  ${h.lowerer(file, p.type)}(${v}At, ${v});`);
      args.push(`load<usize>(${v}At)`, `load<usize>(${v}At, 4)`);
      after.push(`  heap.free(${v}At);`);
    } else {
      unsupported(`an import parameter of type ${witName(p.type)}`);
    }
  }
  if (fm.returnArea !== undefined) args.push('RET_AREA');
  const params = fn.params.map((p) => {
    useTypeNames(file, p.type);
    return `${camel(p.name)}: ${asType(p.type)}`;
  });
  const call = `${host}(${args.join(', ')})`;
  const body: string[] = [...before];
  let returns = 'void';
  const result = fn.result;
  if (result === undefined) {
    body.push(`  ${call};`, ...after);
  } else if (fm.returnArea === undefined) {
    returns = asType(result);
    const r = resolve(result);
    body.push(`  const result = ${call};`, ...after);
    body.push(`  return ${r.kind === 'primitive' && r.name === 'bool' ? 'result != 0' : r.kind === 'enum' ? `${h.liftEnum(file, result)}(result)` : returns === coreResult ? 'result' : `<${returns}>result`};`);
  } else {
    body.push(`  ${call};`, ...after);
    const r = resolve(result);
    if (r.kind === 'result') {
      if (r.err === undefined) return unsupported('a result without an error type');
      const { discriminantSize, payloadOffset } = variantLayout(r, [r.ok, r.err]);
      const check = file.use(MEMORY, 'checkDiscriminant');
      const err = h.load(file, r.err, 'RET_AREA', payloadOffset);
      body.push(`  const tag = <u32>load<${uint(discriminantSize)}>(RET_AREA);`, `  ${check}(tag, 2, "result");`);
      if (r.ok === undefined) {
        returns = `${asType(r.err)} | null`;
        body.push(`  return tag == 0 ? null : ${err};`);
      } else {
        returns = `${pascal(fn.name)}Result`;
        // A record has no default value: the ok side is nullable, null when there is an error.
        const isRecord = resolve(r.ok).kind === 'record';
        const ok = isRecord ? `${asType(r.ok)} | null` : asType(r.ok);
        const none = isRecord ? 'null' : (defaultValue(r.ok) ?? unsupported(`a result whose ok value is a ${resolve(r.ok).kind}`));
        body.push(`  if (tag == 0) return new ${returns}(${h.load(file, r.ok, 'RET_AREA', payloadOffset)}, null);`, `  return new ${returns}(${none}, ${err});`);
        useTypeNames(file, r.err);
        return `/** What \`${fn.name}\` answers: \`value\`, or an error. */
export class ${returns} {
  constructor(public value: ${ok}, public error: ${asType(r.err)} | null) {}
}

${importDeclaration(fm, host, coreParams, coreResult)}

${signatureComment(fn)}
export function ${camel(fn.name)}(${params.join(', ')}): ${returns} {
${body.join('\n')}
}`;
      }
      useTypeNames(file, r.err);
    } else {
      returns = asType(result);
      body.push(`  return ${h.load(file, result, 'RET_AREA', 0)};`);
    }
  }
  return `${importDeclaration(fm, host, coreParams, coreResult)}

${signatureComment(fn)}
export function ${camel(fn.name)}(${params.join(', ')}): ${returns} {
${body.join('\n')}
}`;
}

function importDeclaration(fm: FunctionModel, host: string, coreParams: string[], coreResult: string): string {
  return `// @ts-ignore: decorator
@external("${fm.module}", "${fm.coreName}")
declare function ${host}(${coreParams.join(', ')}): ${coreResult};`;
}

function fileText(path: string, intro: string, file: FileText, blocks: string[]): GeneratedFile {
  const head = `${generatedHeader('//')}${intro}`;
  const imports = file.importLines().join('\n');
  return { path, text: [head + (imports === '' ? '' : `\n${imports}`), ...blocks].filter((b) => b !== '').join('\n\n') + '\n' };
}

export function generateAssemblyScript(pkg: WitPackage): GeneratedFile[] {
  const h = new Helpers();
  const { exported, imported } = interfaceRoles(pkg);
  const files: GeneratedFile[] = [];
  // cabi_realloc comes once per module: with the interface a world is built on, not its optional ones.
  const primary = new Set(worlds(pkg).map((w) => w.exports[0]!));
  for (const name of exported) files.push(exportsFile(pkg, h, name, primary.has(name)));
  const pkgName = `${pkg.namespace}:${pkg.name}@${pkg.version}`;
  for (const iface of pkg.interfaces.values()) {
    const file = new FileText(`./${iface.name}`);
    const blocks = typeDeclarations(file, iface);
    const isImport = imported.includes(iface.name) && !exported.includes(iface.name);
    if (isImport) blocks.push(...importFunctions(pkg, h, file, iface.name));
    if (blocks.length === 0) continue;
    const intro = isImport
      ? `// Interface \`${iface.name}\` of ${pkgName}: its types, and typed calls of the host's functions (imported only when called).`
      : `// The types of interface \`${iface.name}\` of ${pkgName}, as AssemblyScript classes and enums.`;
    files.push(fileText(`${AS_OUT_DIR}/${iface.name}.ts`, intro, file, blocks));
  }
  const abi = abiFile(h);
  for (const [name, file] of h.files) {
    if (name === 'abi') {
      files.push(fileText(`${AS_OUT_DIR}/abi.ts`, `// Strings and byte lists in canonical ABI form: what every generated file of ${pkgName} shares.`, file, [abi, ...file.body]));
    } else {
      files.push(fileText(`${AS_OUT_DIR}/${name}-abi.ts`, `// Lifting and lowering the types of interface \`${name}\` of ${pkgName}.`, file, file.body));
    }
  }
  return files;
}
