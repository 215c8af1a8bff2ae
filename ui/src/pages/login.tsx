// The login page, shown instead of the dashboard when the server requires
// authentication and no session is open.

import { useState } from 'preact/hooks';
import { logIn } from '../auth';

export function LoginPage() {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const problem = await logIn(name.trim(), password);
    setBusy(false);
    if (problem) {
      setError(problem);
      setPassword('');
    } else {
      window.location.reload();
    }
  };

  return (
    <main id="main" class="login">
      <h1>Log in to Steward</h1>
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <label>
          User name
          <input name="name" autocomplete="username" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && (
          <p id="login-error" class="error-note" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
