/**
 * How every HTTP service checks requests against their schemas. A body is taken as it was
 * sent: `{"done":"true"}`, `{"done":0}`, `{"title":true}` and `{"vote":["a"]}` are refused,
 * never coerced. Query strings, path parameters and headers are text, so they are converted,
 * but strictly: a number is written in decimal digits (`/tasks/0x10` is no task 16, `1e3` no
 * thousand), where Ajv's coercion alone would take anything `Number()` takes.
 */
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Fastify's defaults (@fastify/ajv-compiler) but for coercion; allErrors stays off (a DoS).
const shared = { useDefaults: true, removeAdditional: false, allErrors: false } as const;

function ajvWith(coerceTypes: false | 'array'): Ajv {
  const ajv = new Ajv({ ...shared, coerceTypes });
  addFormats.default(ajv);
  return ajv;
}

const integerText = /^-?\d+$/;
const numberText = /^-?\d+(\.\d+)?$/;

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

/** The top-level fields of a query, params or headers schema that hold numbers. */
function numericFields(schema: unknown): Map<string, RegExp> {
  const fields = new Map<string, RegExp>();
  const properties = (schema as ObjectSchema).properties ?? {};
  for (const [name, field] of Object.entries(properties)) {
    if (field.type === 'integer') fields.set(name, integerText);
    else if (field.type === 'number') fields.set(name, numberText);
  }
  return fields;
}

type StrictValidate = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] };

/** Refuses a number not written in decimal digits, then lets Ajv convert and check the rest. */
function strictText(schema: unknown, validate: ValidateFunction): StrictValidate {
  const numeric = numericFields(schema);
  const check: StrictValidate = (data) => {
    if (typeof data === 'object' && data !== null) {
      for (const [name, text] of numeric) {
        const value = (data as Record<string, unknown>)[name];
        const values: unknown[] = Array.isArray(value) ? value : [value];
        if (values.some((one) => typeof one === 'string' && !text.test(one))) {
          check.errors = [
            {
              keyword: 'type',
              instancePath: `/${name}`,
              schemaPath: `#/properties/${name}/type`,
              params: { type: text === integerText ? 'integer' : 'number' },
              message: 'must be a number written in decimal digits',
            },
          ];
          return false;
        }
      }
    }
    const valid = validate(data);
    check.errors = validate.errors;
    return valid;
  };
  return check;
}

/**
 * The compiler `createHttpServer` installs: strict bodies, strictly converted text parts. Each
 * Ajv is made when a route first needs it (making one compiles its meta-schema and formats):
 * a server whose routes validate nothing, like an admin port, makes none.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  let bodies: Ajv | undefined;
  let text: Ajv | undefined;
  return ({ schema, httpPart }) => {
    // Fastify hands the route's JSON schema as it was declared; TypeBox's are plain JSON Schema.
    const jsonSchema = schema as AnySchema;
    if (httpPart === 'body') return (bodies ??= ajvWith(false)).compile(jsonSchema);
    return strictText(schema, (text ??= ajvWith('array')).compile(jsonSchema));
  };
}
