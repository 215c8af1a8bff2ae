// The dashboard's only way to the server: JSON requests to /api/v1 and the
// Server-Sent Events a chat reply streams. Every failure becomes an
// ApiError carrying the API's error shape, so pages can show its message.

import { csrfHeaders, needsLogin } from '../auth';
import type { StewardEvent } from './types';

export const API = '/api/v1';

export class ApiError extends Error {
  readonly code: string;
  readonly field: string | null;
  readonly status: number;

  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  try {
    const body = await response.json();
    const error = body?.error;
    if (error && typeof error.message === 'string') {
      return new ApiError(response.status, error.code ?? 'unknown', error.message, error.field ?? null);
    }
  } catch {
    // Not the API's error shape (a proxy's page, a cut connection): say what we know.
  }
  return new ApiError(response.status, 'http_error', `the server answered ${response.status} ${response.statusText}`);
}

export async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(API + path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(method === 'GET' ? {} : csrfHeaders()),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'unreachable', 'Steward does not answer; is `steward serve` still running?');
  }
  if (response.status === 401) needsLogin.value = true;
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);

/** One Server-Sent Event as the spec frames it. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/**
 * Reads Server-Sent Events from a response body, calling `onMessage` for
 * each complete event (fields `event`, `data`, `id`; comments skipped).
 */
export async function readEvents(body: ReadableStream<Uint8Array>, onMessage: (message: SseMessage) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) onMessage({ event: event || 'message', data: data.join('\n'), id });
        event = '';
        data = [];
        id = null;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id') id = text;
    }
  }
}

/**
 * Sends a chat message and streams the reply: `onEvent` gets each event
 * (`delta`, `draft_proposed`, `draft_updated`, `done`, `error`) with its
 * parsed data. A refusal before the stream starts throws an ApiError.
 */
export async function streamChat(
  path: string,
  message: string,
  onEvent: (name: string, data: any) => void,
  signal?: AbortSignal,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(API + path, {
      method: 'POST',
      headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json', ...csrfHeaders() },
      body: JSON.stringify({ message }),
      signal,
    });
  } catch {
    throw new ApiError(0, 'unreachable', 'Steward does not answer; is `steward serve` still running?');
  }
  if (!response.ok || !response.body) throw await errorFrom(response);
  await readEvents(response.body, ({ event, data }) => {
    let parsed: any = null;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    onEvent(event, parsed);
  });
}

export type { StewardEvent };
