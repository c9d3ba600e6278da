// The parsed and resolved WIT package: the subset of WIT the ABI speaks. Every name
// is resolved at parse time, so the canonical ABI compiles straight from these nodes.

export type WitPrimitiveName =
  | 'bool'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 's8'
  | 's16'
  | 's32'
  | 's64'
  | 'f32'
  | 'f64'
  | 'char'
  | 'string';

export interface WitPrimitive {
  kind: 'primitive';
  name: WitPrimitiveName;
}

export interface WitList {
  kind: 'list';
  element: WitType;
}

/** Never holds another option (directly or through an alias): `T | undefined` cannot nest. */
export interface WitOption {
  kind: 'option';
  inner: WitType;
}

/** `undefined` stands for `_`. */
export interface WitResult {
  kind: 'result';
  ok: WitType | undefined;
  err: WitType | undefined;
}

export interface WitTuple {
  kind: 'tuple';
  elements: WitType[];
}

export interface WitField {
  /** The WIT (kebab-case) name. */
  name: string;
  type: WitType;
  /** Its `///` doc comment, when it has one (generators copy it into the code they write). */
  docs?: string;
}

export interface WitRecord {
  kind: 'record';
  fields: WitField[];
}

export interface WitCase {
  name: string;
  type: WitType | undefined;
  docs?: string;
}

export interface WitVariant {
  kind: 'variant';
  cases: WitCase[];
}

export interface WitEnum {
  kind: 'enum';
  cases: string[];
  /** The doc comment of each case that has one, by case name. */
  caseDocs?: Map<string, string>;
}

export interface WitFlags {
  kind: 'flags';
  flags: string[];
}

/**
 * A use of a named type (`metadata`, `get-response`), already resolved: `type` is the very
 * node of its definition, shared by every reference, wherever it is `use`d from.
 */
export interface WitNamed {
  kind: 'named';
  name: string;
  /** The interface that defines the type. */
  interface: string;
  type: WitType;
}

export type WitType =
  | WitPrimitive
  | WitList
  | WitOption
  | WitResult
  | WitTuple
  | WitRecord
  | WitVariant
  | WitEnum
  | WitFlags
  | WitNamed;

export interface WitParam {
  name: string;
  type: WitType;
}

export interface WitFunction {
  name: string;
  params: WitParam[];
  result: WitType | undefined;
  docs?: string;
}

export interface WitInterface {
  name: string;
  /** The types the interface defines (not those it `use`s), in declaration order. */
  types: Map<string, WitType>;
  functions: WitFunction[];
  docs?: string;
  /** The doc comment of each type the interface defines that has one, by type name. */
  typeDocs: Map<string, string>;
  /** The package version that added it (`@since(version = x.y.z)`); absent: it was always there. */
  since?: string;
}

export interface WitWorld {
  name: string;
  /** Names of interfaces of this package the world imports, in order. */
  imports: string[];
  exports: string[];
  /** The package version that added it (`@since`); absent: it was always there. */
  since?: string;
  /** The version that added each import or export gated with `@since`, by interface name. */
  itemSince?: Map<string, string>;
}

export interface WitPackage {
  namespace: string;
  name: string;
  version: string;
  interfaces: Map<string, WitInterface>;
  worlds: Map<string, WitWorld>;
}

/**
 * `make` with its answer kept per type object: for pure functions of a type that the
 * canonical ABI's compilers ask again and again, for every export and import at every
 * instance's start (a contract's types live as long as the contract; a type made apart, such
 * as a tuple of parameters, is simply not found and worked out again).
 */
export function perType<V>(make: (t: WitType) => V): (t: WitType) => V {
  const kept = new WeakMap<WitType, V>();
  return (t) => {
    let value = kept.get(t);
    if (value === undefined) {
      value = make(t);
      kept.set(t, value);
    }
    return value;
  };
}

const describeKnown = perType(describeNew);

/** A type as WIT spells it, for error messages: `list<u8>`, `option<string>`, `get-response`. */
export function describeType(t: WitType | undefined): string {
  return t === undefined ? '_' : describeKnown(t);
}

function describeNew(t: WitType): string {
  switch (t.kind) {
    case 'primitive':
      return t.name;
    case 'named':
      return t.name;
    case 'list':
      return `list<${describeType(t.element)}>`;
    case 'option':
      return `option<${describeType(t.inner)}>`;
    case 'result':
      return t.ok === undefined && t.err === undefined ? 'result' : `result<${describeType(t.ok)}, ${describeType(t.err)}>`;
    case 'tuple':
      return `tuple<${t.elements.map(describeType).join(', ')}>`;
    case 'record':
    case 'variant':
    case 'enum':
    case 'flags':
      return t.kind;
  }
}
