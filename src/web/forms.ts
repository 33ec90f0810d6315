/** Reads url-encoded form bodies defensively (B1): only strings, each with a length limit. */
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';

export interface FormRead<K extends string> {
  values: Record<K, string>;
  /** Fields longer than their limit (their value is cut, so the page can show it back). */
  tooLong: K[];
}

/**
 * Takes the named fields; a field sent twice, or a body that is not a form, is a bad request.
 * A missing field reads as ''.
 */
export function readForm<K extends string>(request: FastifyRequest, limits: Record<K, number>): FormRead<K> {
  const body = request.body;
  if (body === undefined || body === null) {
    return { values: Object.fromEntries(Object.keys(limits).map((k) => [k, ''])) as Record<K, string>, tooLong: [] };
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new HttpError('BAD_REQUEST', 'form body is not an object');
  const values = {} as Record<K, string>;
  const tooLong: K[] = [];
  for (const name of Object.keys(limits) as K[]) {
    const raw = (body as Record<string, unknown>)[name];
    if (raw !== undefined && typeof raw !== 'string')
      throw new HttpError('BAD_REQUEST', `field ${name} is not a single value`);
    const v = (raw ?? '').replace(/\r\n/g, '\n');
    if ([...v].length > limits[name]) {
      tooLong.push(name);
      values[name] = [...v].slice(0, limits[name]).join('');
    } else values[name] = v;
  }
  return { values, tooLong };
}

/** The single string value of a query parameter, or undefined (arrays are refused). */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const q = request.query as Record<string, unknown> | undefined;
  const v = q?.[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new HttpError('BAD_REQUEST', `query ${name} is not a single value`);
  return v;
}
