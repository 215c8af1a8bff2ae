// Small building blocks every page uses: headers, empty states that say what
// to do next, error notes with the API's message, status badges, toasts.

import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client';
import { words } from '../format';

export function PageHeader(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p class="muted">{props.subtitle}</p>}
      </div>
      {props.actions && <div class="page-actions">{props.actions}</div>}
    </header>
  );
}

/** What a page shows when there is nothing yet: why, and what to do. */
export function Empty(props: { title: string; children: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">{props.title}</p>
      <div class="muted">{props.children}</div>
    </div>
  );
}

export function ErrorNote(props: { error: ApiError | null; retry?: () => void }) {
  if (!props.error) return null;
  return (
    <div class="error-note" role="alert">
      <strong>{props.error.code === 'unreachable' ? 'Not connected' : 'Something went wrong'}:</strong>{' '}
      {props.error.message}
      {props.retry && (
        <button type="button" class="link-button" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading() {
  return (
    <p class="muted loading" role="status">
      Loading…
    </p>
  );
}

/** A state or status as a coloured label; the colour follows the word. */
export function Badge(props: { value: string; title?: string }) {
  return (
    <span class={`badge badge-${props.value}`} title={props.title}>
      {words(props.value)}
    </span>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; hint?: string }) {
  return (
    <div class="stat">
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
      {props.hint && <div class="stat-hint muted">{props.hint}</div>}
    </div>
  );
}

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export const toasts = signal<Toast[]>([]);
let toastId = 0;

/** Shows a short message for a few seconds (errors stay longer). */
export function toast(text: string, kind: Toast['kind'] = 'info') {
  const id = ++toastId;
  toasts.value = [...toasts.value, { id, kind, text }];
  setTimeout(() => dismissToast(id), kind === 'error' ? 9000 : 4000);
}

export function dismissToast(id: number) {
  toasts.value = toasts.value.filter((item) => item.id !== id);
}

export function Toasts() {
  return (
    <div class="toasts" aria-live="polite">
      {toasts.value.map((item) => (
        <div key={item.id} class={`toast toast-${item.kind}`} role={item.kind === 'error' ? 'alert' : 'status'}>
          <span>{item.text}</span>
          <button type="button" class="icon-button" aria-label="Dismiss message" onClick={() => dismissToast(item.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** Long text shown folded past `limit` characters, with a button to unfold it. */
export function LongText(props: { text: string; limit?: number }) {
  const limit = props.limit ?? 400;
  if (props.text.length <= limit) return <pre class="text-block">{props.text}</pre>;
  return (
    <details class="long-text">
      <summary>
        <pre class="text-block">{props.text.slice(0, limit)}…</pre>
        <span class="link-button">Show all {props.text.length.toLocaleString()} characters</span>
      </summary>
      <pre class="text-block">{props.text}</pre>
    </details>
  );
}

export function Json(props: { value: unknown; limit?: number }) {
  const text = typeof props.value === 'string' ? props.value : JSON.stringify(props.value, null, 2);
  return <LongText text={text ?? 'null'} limit={props.limit} />;
}
