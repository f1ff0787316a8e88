// A plain-JavaScript check compiled from a zod schema, for replaying the journal: zod's parse of
// ~600,000 events, and the copy it makes of each, are much of a 100,000-job resume's time. The
// rules are read from the schema itself, so they cannot drift from it. Only the constructs below
// are compiled; a schema holding anything else (a refinement, a transform, a length limit, a
// non-strict object) compiles to undefined, and zod stays the judge (in a discriminated union, only
// the options that do not compile are left to zod). A compiled check says yes
// only when zod would accept the value and return it unchanged; on a no, zod decides and explains.
import type { z } from 'zod';

/** True when the value certainly satisfies the schema it was compiled from, as it is. */
export type FastCheck = (value: unknown) => boolean;

/** What this file reads of zod 4's definitions (`schema._zod.def`). */
interface Def {
  readonly type: string;
  readonly checks?: readonly { readonly _zod: { readonly def: CheckDef } }[];
  readonly coerce?: boolean;
  readonly innerType?: Schema;
  readonly element?: Schema;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly catchall?: Schema;
  readonly options?: readonly Schema[];
  readonly discriminator?: string;
  readonly values?: readonly unknown[];
  readonly entries?: Readonly<Record<string, unknown>>;
}
interface CheckDef {
  readonly check: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly value?: unknown;
  readonly inclusive?: boolean;
}
interface Schema {
  readonly _zod: { readonly def: Def };
}

class Unsupported extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string or number check; anything else is not compiled. */
function checkOf(def: CheckDef): FastCheck {
  if (def.check === 'string_format' && def.format === 'regex' && def.pattern) {
    const pattern = def.pattern;
    return (value) => {
      pattern.lastIndex = 0; // as zod does, for a pattern with the g or y flag
      return pattern.test(value as string);
    };
  }
  if (def.check === 'number_format' && def.format === 'safeint') return (value) => Number.isSafeInteger(value);
  if ((def.check === 'greater_than' || def.check === 'less_than') && typeof def.value === 'number') {
    const bound = def.value;
    if (def.check === 'greater_than') return def.inclusive ? (value) => (value as number) >= bound : (value) => (value as number) > bound;
    return def.inclusive ? (value) => (value as number) <= bound : (value) => (value as number) < bound;
  }
  throw new Unsupported(def.check);
}

/** The schema's own checks (none allowed on containers). */
function checksOf(def: Def, allowed: boolean): FastCheck[] {
  const checks = def.checks ?? [];
  if (checks.length && !allowed) throw new Unsupported(`checks on ${def.type}`);
  return checks.map((check) => checkOf(check._zod.def));
}

const all = (base: FastCheck, checks: readonly FastCheck[]): FastCheck => (checks.length === 0 ? base : (value) => base(value) && checks.every((check) => check(value)));

function compileObject(def: Def): FastCheck {
  // A strict object only: a plain one strips unknown keys, so the value would not come back as it is.
  if (def.catchall?._zod.def.type !== 'never' || !def.shape) throw new Unsupported('non-strict object');
  const fields = new Map<string, { readonly check: FastCheck; readonly required: boolean }>();
  let required = 0;
  for (const [key, schema] of Object.entries(def.shape)) {
    const isRequired = schema._zod.def.type !== 'optional';
    fields.set(key, { check: compile(schema), required: isRequired });
    if (isRequired) required += 1;
  }
  return (value) => {
    if (!isObject(value)) return false;
    let present = 0; // required keys seen: each key appears once, so all are there when the count is reached
    for (const key in value) {
      const field = fields.get(key);
      if (!field || !Object.hasOwn(value, key) || !field.check(value[key])) return false;
      if (field.required) present += 1;
    }
    return present === required;
  };
}

function compileUnion(def: Def): FastCheck {
  const options = def.options ?? [];
  const { discriminator } = def;
  if (discriminator === undefined) {
    const checks = options.map(compile);
    return (value) => checks.some((check) => check(value));
  }
  // An option that does not compile is zod's to judge: its values get a no here.
  const byValue = new Map<unknown, FastCheck>();
  for (const option of options) {
    const literal = option._zod.def.shape?.[discriminator]?._zod.def;
    if (literal?.type !== 'literal' || !literal.values) continue;
    let check: FastCheck;
    try {
      check = compile(option);
    } catch (error) {
      if (error instanceof Unsupported) continue;
      throw error;
    }
    for (const value of literal.values) byValue.set(value, check);
  }
  return (value) => isObject(value) && (byValue.get(value[discriminator])?.(value) ?? false);
}

function compile(schema: Schema): FastCheck {
  const def = schema._zod.def;
  if (def.coerce) throw new Unsupported('coercion');
  switch (def.type) {
    case 'string':
      return all((value) => typeof value === 'string', checksOf(def, true));
    case 'number':
      // zod 4 numbers are finite.
      return all((value) => typeof value === 'number' && Number.isFinite(value), checksOf(def, true));
    case 'boolean':
      checksOf(def, false);
      return (value) => typeof value === 'boolean';
    case 'literal': {
      checksOf(def, false);
      const values = def.values ?? [];
      return (value) => values.includes(value);
    }
    case 'enum': {
      checksOf(def, false);
      const values = Object.values(def.entries ?? {});
      return (value) => values.includes(value);
    }
    case 'optional': {
      checksOf(def, false);
      const inner = compile(def.innerType as Schema);
      return (value) => value === undefined || inner(value);
    }
    case 'nullable': {
      checksOf(def, false);
      const inner = compile(def.innerType as Schema);
      return (value) => value === null || inner(value);
    }
    case 'array': {
      checksOf(def, false);
      const element = compile(def.element as Schema);
      return (value) => {
        if (!Array.isArray(value)) return false;
        for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
        return true;
      };
    }
    case 'object':
      checksOf(def, false);
      return compileObject(def);
    case 'union':
      checksOf(def, false);
      return compileUnion(def);
    default:
      throw new Unsupported(def.type);
  }
}

/** The schema compiled, or undefined when it uses something this file does not compile. */
export function compileFastCheck(schema: z.ZodType): FastCheck | undefined {
  try {
    return compile(schema as unknown as Schema);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
