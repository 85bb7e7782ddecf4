/** Types of scripts/schema-to-ts.mjs, for the unit tests that exercise it. */
export function schemasToTs(schemas: Record<string, unknown>): string;
export function typeOf(schema: Record<string, unknown>, path: string): string;
