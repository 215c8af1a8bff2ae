// Who the dashboard acts for. On a server that requires authentication the
// dashboard logs in with a name and a password: the server sets an HttpOnly
// session cookie and gives the CSRF token that every change must send as
// X-CSRF-Token (kept in memory only, and asked for again on each load).

import { signal } from '@preact/signals';

export interface Session {
  authentication_required: boolean;
  user: string | null;
  admin: boolean;
  csrf_token: string | null;
}

/** The session as the server last described it; null until loaded. */
export const session = signal<Session | null>(null);

/** True when the server asked for a login (a 401). */
export const needsLogin = signal(false);

export async function loadSession(): Promise<void> {
  try {
    const response = await fetch('/api/v1/auth/session', { headers: { Accept: 'application/json' } });
    if (!response.ok) return;
    const body = (await response.json()) as Session;
    session.value = body;
    needsLogin.value = body.authentication_required && body.user === null;
  } catch {
    // The server is unreachable: pages say so when they load.
  }
}

/** The headers a state change adds: the session's CSRF token, if any. */
export function csrfHeaders(): Record<string, string> {
  const token = session.value?.csrf_token;
  return token ? { 'X-CSRF-Token': token } : {};
}

/** Logs in; resolves to an error message, or null on success. */
export async function logIn(name: string, password: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
  } catch {
    return 'Steward does not answer; is `steward serve` still running?';
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) return body?.error?.message ?? `the server answered ${response.status}`;
  session.value = body as Session;
  needsLogin.value = false;
  return null;
}

export async function logOut(): Promise<void> {
  await fetch('/api/v1/auth/logout', { method: 'POST', headers: csrfHeaders() }).catch(() => undefined);
  session.value = session.value ? { ...session.value, user: null, csrf_token: null } : null;
  needsLogin.value = session.value?.authentication_required ?? false;
}
