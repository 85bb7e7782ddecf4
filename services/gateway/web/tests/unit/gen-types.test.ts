import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemasToTs, typeOf } from '../../scripts/schema-to-ts.mjs';
import { MESSAGE_TYPES } from '../../src/types/messages';

const schemaPath = resolve(__dirname, '../../../../../libs/common/tests/contracts/schemas.json');
const schemas = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, { properties?: { type?: { const?: string } } }>;

describe('message type generator', () => {
  it('declares every message of the contract and puts its type in the union', () => {
    const text = schemasToTs(schemas);
    for (const name of Object.keys(schemas)) {
      expect(text).toContain(`export interface ${name} {`);
      expect(text).toMatch(new RegExp(`\\| ${name}\\b`));
    }
  });

  it('has generated the discriminators the contract defines, no more, no less', () => {
    const fromSchema = Object.values(schemas)
      .map((s) => s.properties?.type?.const)
      .filter((t): t is string => typeof t === 'string')
      .sort();
    expect([...MESSAGE_TYPES].sort()).toEqual(fromSchema);
  });

  it('maps the JSON Schema shapes pydantic emits', () => {
    expect(typeOf({ anyOf: [{ type: 'number' }, { type: 'null' }] }, 'p')).toBe('number | null');
    expect(typeOf({ type: 'array', items: { $ref: '#/$defs/StageScore' } }, 'p')).toBe('StageScore[]');
    expect(typeOf({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } }, 'p')).toBe('(string | null)[]');
    expect(typeOf({ enum: ['buy', 'sell'] }, 'p')).toBe('"buy" | "sell"');
    expect(typeOf({ const: 1 }, 'p')).toBe('1');
    expect(
      typeOf({ type: 'object', additionalProperties: { type: 'number' }, propertyNames: { enum: ['a', 'b'] } }, 'p'),
    ).toBe('Partial<Record<"a" | "b", number>>');
  });

  it('refuses a schema construct it cannot express instead of guessing', () => {
    expect(() => typeOf({ oneOf: [{ type: 'string' }] }, 'Msg.field')).toThrow(/Msg\.field/);
    expect(() => typeOf({ $ref: 'other.json#/x' }, 'Msg.ref')).toThrow(/unsupported \$ref/);
  });

  it('refuses two different definitions under one name', () => {
    const a = { type: 'object', properties: { x: { type: 'string' } } };
    const b = { type: 'object', properties: { x: { type: 'number' } } };
    expect(() => schemasToTs({ A: { ...a, $defs: { B: a } }, B: b })).toThrow(/differs/);
  });
});
