// The lifting and lowering helpers of the AssemblyScript SDK's generated glue: one function per
// WIT type that crosses the ABI (`liftGetRequestList`, `loadSetRequest`, `lowerGetResponse`),
// each written once, into `generated/<interface>-abi.ts` of the interface that defines the type
// (`generated/abi.ts` for strings and byte lists). Every offset, size and discriminant width
// comes from the model.
import type { WitType } from '../../sandbox/wit/ast.ts';
import { camel, layoutOf, recordFields, resolve, variantLayout } from './model.ts';
import {
  abiModule,
  asType,
  caseField,
  FileText,
  isBytes,
  isReference,
  key,
  home,
  MEMORY,
  PRIMITIVES,
  SDK_TYPES,
  SDK_TYPES_MODULE,
  someValue,
  stringCase,
  typeName,
  uint,
  unsupported,
  witName,
} from './assemblyscript-types.ts';

const U32: WitType = { kind: 'primitive', name: 'u32' };
/** Where a string's or list's pointer and length sit in memory. */
const [PTR_AT, LEN_AT] = recordFields([
  { name: 'ptr', type: U32 },
  { name: 'len', type: U32 },
]).map((f) => f.offset) as [number, number];

/** Imports the class (or enum) of a named type into `f`: the SDK's own, or the generated one. */
function useClass(f: FileText, t: WitType & { kind: 'named' }): void {
  f.use(SDK_TYPES.has(t.name) ? SDK_TYPES_MODULE : `./${t.interface}`, typeName(t.name));
}

/** Statements writing a string's or list's pointer and length at `at`. */
function storePtrLen(ptr: string, len: string): string {
  return `  store<u32>(at, ${ptr}${PTR_AT === 0 ? '' : `, ${PTR_AT}`});\n  store<u32>(at, ${len}, ${LEN_AT});`;
}

export class Helpers {
  readonly files = new Map<string, FileText>();
  readonly #written = new Set<string>();

  file(iface: string): FileText {
    const module = abiModule(iface);
    if (!this.files.has(iface)) this.files.set(iface, new FileText(module));
    return this.files.get(iface)!;
  }

  /** Makes `from` import the helper `name` of `t`'s home, writing it there first if new. */
  #helper(from: FileText, t: WitType, name: string, write: (f: FileText) => string): string {
    const target = this.file(home(t));
    if (!this.#written.has(name)) {
      this.#written.add(name);
      target.body.push(write(target));
    }
    return from.use(target.module, name);
  }

  /** An expression reading a `t` at `base` + `offset`. */
  load(from: FileText, t: WitType, base: string, offset: number): string {
    const r = resolve(t);
    const at = (o: number): string => (o === 0 ? `load<u32>(${base})` : `load<u32>(${base}, ${o})`);
    const ptrLen = (): string => `${at(offset + PTR_AT)}, ${at(offset + LEN_AT)}`;
    if (r.kind === 'primitive') {
      if (r.name === 'string') return `${this.liftPair(from, t)}(${ptrLen()})`;
      const type = r.name === 'bool' ? 'u8' : PRIMITIVES[r.name]!;
      const read = offset === 0 ? `load<${type}>(${base})` : `load<${type}>(${base}, ${offset})`;
      return r.name === 'bool' ? `${read} != 0` : read;
    }
    if (r.kind === 'list') return `${this.liftPair(from, t)}(${ptrLen()})`;
    if (r.kind === 'enum') {
      const size = layoutOf(r).size;
      const read = offset === 0 ? `load<${uint(size)}>(${base})` : `load<${uint(size)}>(${base}, ${offset})`;
      return `${this.liftEnum(from, t)}(${read})`;
    }
    return `${this.loader(from, t)}(${offset === 0 ? base : `${base} + ${offset}`})`;
  }

  /** `liftX(ptr, len)` of a string or list. */
  liftPair(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (r.kind === 'primitive') return from.use(MEMORY, 'liftString');
    if (isBytes(t)) return from.use(MEMORY, 'liftBytes');
    if (r.kind !== 'list') return unsupported(`lifting a ${r.kind} from a pointer and a length`);
    const element = r.element;
    const name = `lift${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const { size } = layoutOf(element);
      const freeList = f.use(MEMORY, 'freeList');
      const type = asType(t);
      if (t.kind === 'named' && SDK_TYPES.get(t.name) === 'Metadata') {
        const pair = resolve(element);
        if (pair.kind !== 'tuple' || pair.elements.length !== 2) return unsupported('a `metadata` that is not a list of pairs');
        const [k, v] = recordFields(pair.elements.map((e, i) => ({ name: String(i), type: e })));
        f.use(SDK_TYPES_MODULE, 'Metadata');
        return `/** \`${t.name}\`: elements of ${size} bytes. */
export function ${name}(ptr: usize, len: usize): Metadata {
  const metadata = new Metadata();
  for (let i: usize = 0; i < len; i++) {
    const at = ptr + i * ${size};
    metadata.append(${this.load(f, k!.type, 'at', k!.offset)}, ${this.load(f, v!.type, 'at', v!.offset)});
  }
  ${freeList}(ptr, len);
  return metadata;
}`;
      }
      return `/** list<${witName(element)}>: elements of ${size} bytes. */
export function ${name}(ptr: usize, len: usize): ${type} {
  const list = new Array<${asType(element)}>(<i32>len);
  for (let i: usize = 0; i < len; i++) list[<i32>i] = ${this.load(f, element, 'ptr + i * ' + size, 0)};
  ${freeList}(ptr, len);
  return list;
}`;
    });
  }

  liftEnum(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (t.kind !== 'named' || r.kind !== 'enum') return unsupported('an unnamed enum');
    const type = typeName(t.name);
    return this.#helper(from, t, `lift${type}`, (f) => {
      f.use(`./${t.interface}`, type);
      return `export function lift${type}(value: u32): ${type} {
  ${f.use(MEMORY, 'checkDiscriminant')}(value, ${r.cases.length}, "${t.name}");
  return <${type}>value;
}`;
    });
  }

  /** `loadX(p)` of a record, variant or option in memory. */
  loader(from: FileText, t: WitType): string {
    const r = resolve(t);
    const name = `load${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const type = asType(t);
      if (t.kind === 'option') {
        const { payloadOffset, discriminantSize } = variantLayout(t, [undefined, t.inner]);
        return `/** option<${witName(t.inner)}>: a ${uint(discriminantSize)} discriminant, the value at ${payloadOffset}. */
export function ${name}(p: usize): ${type} {
  const some = <u32>load<${uint(discriminantSize)}>(p);
  ${f.use(MEMORY, 'checkDiscriminant')}(some, 2, "option");
  return some == 0 ? null : ${someValue(f, t.inner, this.load(f, t.inner, 'p', payloadOffset))};
}`;
      }
      if (t.kind !== 'named') return unsupported(`an unnamed ${r.kind}`);
      useClass(f, t);
      if (r.kind === 'record') {
        const fields = recordFields(r.fields);
        return `/** ${t.name}: ${layoutOf(r).size} bytes. */
export function ${name}(p: usize): ${type} {
  return new ${type}(
${fields.map((fl) => `    ${this.load(f, fl.type, 'p', fl.offset)},`).join('\n')}
  );
}`;
      }
      if (r.kind === 'variant') {
        const { discriminantSize, payloadOffset } = variantLayout(r, r.cases.map((c) => c.type));
        const check = `${f.use(MEMORY, 'checkDiscriminant')}(kind, ${r.cases.length}, "${t.name}");`;
        if (SDK_TYPES.get(t.name) === 'StateError') {
          f.use('./types', 'ErrorKind');
          return `/** ${t.name}: a ${uint(discriminantSize)} case, its message at ${payloadOffset}. */
export function ${name}(p: usize): StateError {
  const kind = <u32>load<${uint(discriminantSize)}>(p);
  ${check}
  return new StateError(<ErrorKind>kind, ${this.load(f, stringCase(t.name, r.cases), 'p', payloadOffset)});
}`;
        }
        const cases = r.cases.map((c, i) => {
          const build = `${type}.${camel(c.name)}(${c.type === undefined ? '' : this.load(f, c.type, 'p', payloadOffset)})`;
          return i === r.cases.length - 1 ? `  return ${build};` : `  if (kind == ${i}) return ${build};`;
        });
        return `/** ${t.name}: a ${uint(discriminantSize)} case, its payload at ${payloadOffset}. */
export function ${name}(p: usize): ${type} {
  const kind = <u32>load<${uint(discriminantSize)}>(p);
  ${check}
${cases.join('\n')}
}`;
      }
      return unsupported(`a ${r.kind}`);
    });
  }

  /** Statements writing `value` (an expression of `t`'s AssemblyScript type) at `base` + `offset`. */
  store(from: FileText, t: WitType, value: string, base: string, offset: number): string {
    const r = resolve(t);
    const at = offset === 0 ? base : `${base} + ${offset}`;
    if (r.kind === 'primitive' && r.name !== 'string') {
      const type = r.name === 'bool' ? 'u8' : PRIMITIVES[r.name]!;
      const v = r.name === 'bool' ? `${value} ? 1 : 0` : value;
      return offset === 0 ? `store<${type}>(${base}, ${v});` : `store<${type}>(${base}, ${v}, ${offset});`;
    }
    if (r.kind === 'enum') {
      const type = uint(layoutOf(r).size);
      return offset === 0 ? `store<${type}>(${base}, <${type}>${value});` : `store<${type}>(${base}, <${type}>${value}, ${offset});`;
    }
    return `${this.lowerer(from, t)}(${at}, ${value});`;
  }

  /** `lowerX(at, value)` of anything but a scalar. */
  lowerer(from: FileText, t: WitType): string {
    const r = resolve(t);
    if (r.kind === 'primitive') return from.use('./abi', 'lowerString');
    if (isBytes(t)) return from.use('./abi', 'lowerBytes');
    const name = `lower${key(t)}`;
    return this.#helper(from, t, name, (f) => {
      const type = asType(t);
      if (t.kind === 'named' && r.kind === 'record') {
        useClass(f, t);
        const stores = recordFields(r.fields).map((fl) => `  ${this.store(f, fl.type, `value.${camel(fl.name)}`, 'at', fl.offset)}`);
        return `/** ${t.name}: ${layoutOf(r).size} bytes. */\nexport function ${name}(at: usize, value: ${type}): void {\n${stores.join('\n')}\n}`;
      }
      if (r.kind === 'list') {
        const { size, align } = layoutOf(r.element);
        const arenaAlloc = f.use(MEMORY, 'arenaAlloc');
        if (t.kind === 'named' && SDK_TYPES.get(t.name) === 'Metadata') {
          const pair = resolve(r.element);
          if (pair.kind !== 'tuple' || pair.elements.length !== 2) return unsupported('a `metadata` that is not a list of pairs');
          const [k, v] = recordFields(pair.elements.map((e, i) => ({ name: String(i), type: e })));
          f.use(SDK_TYPES_MODULE, 'Metadata');
          return `export function ${name}(at: usize, metadata: Metadata): void {
  const len = <usize>metadata.length;
  const ptr = ${arenaAlloc}(len * ${size}, ${align});
  for (let i: usize = 0; i < len; i++) {
    const entry = ptr + i * ${size};
    ${this.store(f, k!.type, 'metadata.keyAt(<i32>i)', 'entry', k!.offset)}
    ${this.store(f, v!.type, 'metadata.valueAt(<i32>i)', 'entry', v!.offset)}
  }
${storePtrLen('ptr', 'len')}
}`;
        }
        return `/** list<${witName(r.element)}>: elements of ${size} bytes, in the arena. */
export function ${name}(at: usize, list: ${type}): void {
  const len = <usize>list.length;
  const ptr = ${arenaAlloc}(len * ${size}, ${align});
  for (let i: usize = 0; i < len; i++) ${this.store(f, r.element, 'list[<i32>i]', 'ptr + i * ' + size, 0)}
${storePtrLen('ptr', 'len')}
}`;
      }
      if (t.kind === 'option') {
        const { payloadOffset, discriminantSize } = variantLayout(t, [undefined, t.inner]);
        const d = uint(discriminantSize);
        return `/** option<${witName(t.inner)}>: a ${d} discriminant, the value at ${payloadOffset}. */
export function ${name}(at: usize, value: ${type}): void {
  if (value !== null) {
    store<${d}>(at, 1);
    ${this.store(f, t.inner, isReference(t.inner) ? 'value' : 'value.value', 'at', payloadOffset)}
  } else {
    store<${d}>(at, 0);
  }
}`;
      }
      if (t.kind !== 'named') return unsupported(`an unnamed ${r.kind}`);
      useClass(f, t);
      if (r.kind === 'variant') {
        const { discriminantSize, payloadOffset } = variantLayout(r, r.cases.map((c) => c.type));
        const d = uint(discriminantSize);
        if (SDK_TYPES.get(t.name) === 'StateError') {
          return `/** ${t.name}: a ${d} case, its message at ${payloadOffset}. */
export function ${name}(at: usize, error: StateError): void {
  store<${d}>(at, <${d}>error.kind);
  ${this.store(f, stringCase(t.name, r.cases), 'error.message', 'at', payloadOffset)}
}`;
        }
        const cases = r.cases.map((c, i) => {
          const payload = c.type === undefined ? '' : `\n    ${this.store(f, c.type, `value.${caseField(r.cases, i)}!`, 'at', payloadOffset)}`;
          return `  ${i === 0 ? '' : '} else '}if (value.kind == ${i}) {\n    store<${d}>(at, ${i});${payload}`;
        });
        return `/** ${t.name}: a ${d} case, its payload at ${payloadOffset}. */
export function ${name}(at: usize, value: ${type}): void {
${cases.join('\n')}
  }
}`;
      }
      return unsupported(`a ${r.kind}`);
    });
  }
}

/** The fixed part of `generated/abi.ts`. */
export function abiFile(h: Helpers): string {
  const f = h.file('abi');
  for (const name of ['arenaAlloc', 'RawBytes', 'lend']) f.use(MEMORY, name);
  const fixed = `/** A string answered: encoded into the arena, its pointer and length written at \`at\`. */
export function lowerString(at: usize, s: string): void {
  const len = <usize>String.UTF8.byteLength(s);
  const ptr = arenaAlloc(len, 1);
  // REPLACE: an AssemblyScript string may hold a lone surrogate, which is not valid UTF-8 on the wire.
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
${storePtrLen('ptr', 'len')}
}

/** A byte list answered: copied into the arena, its pointer and length written at \`at\`. */
export function lowerBytes(at: usize, bytes: Uint8Array): void {
  const len = <usize>bytes.length;
  const ptr = arenaAlloc(len, 1);
  memory.copy(ptr, bytes.dataStart, len);
${storePtrLen('ptr', 'len')}
}

/** A raw block answered as a byte list: lent to the host as is, released after it read it. An empty list owns no memory: any pointer will do. */
export function lendRawBytes(at: usize, bytes: RawBytes): void {
  lend(bytes);
${storePtrLen('bytes.length != 0 ? bytes.ptr : 1', 'bytes.length')}
}`;
  return fixed;
}
