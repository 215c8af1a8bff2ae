// Access: the API tokens of the user this dashboard acts for (everyone's
// for an administrator), creating one (its secret is shown once, here,
// and never again) and revoking one; and, for administrators, the users.
// Users themselves are added with `steward user add`.

import { useState } from 'preact/hooks';
import { ApiError, get, post } from '../api/client';
import { useData } from '../components/data';
import { Badge, Empty, ErrorNote, Loading, PageHeader, toast } from '../components/ui';
import { formatTime } from '../format';

interface Token {
  id: number;
  user: string;
  name: string;
  scope: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface User {
  id: number;
  name: string;
  admin: boolean;
  has_password: boolean;
  created_at: string;
}

const when = (time: string | null) => (time ? formatTime(time) : '—');

export function AccessPage() {
  const tokens = useData((signal) => get<{ tokens: Token[] }>('/tokens', signal).then((page) => page.tokens), []);
  const users = useData(
    (signal) =>
      get<{ users: User[] }>('/users', signal)
        .then((page) => page.users)
        .catch((cause: ApiError) => (cause.status === 403 ? null : Promise.reject(cause))),
    [],
  );
  return (
    <>
      <PageHeader title="Access" subtitle="API tokens for the CLI and scripts; a token's secret is shown once, when it is created." />
      <CreateToken onCreated={tokens.reload} />
      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Tokens</h2>
        <ErrorNote error={tokens.error} retry={tokens.reload} />
        {!tokens.data && !tokens.error && <Loading />}
        {tokens.data && tokens.data.length === 0 && (
          <Empty title="No tokens yet">
            <p>Create one above, or with <code>steward token create --user NAME --name laptop</code>.</p>
          </Empty>
        )}
        {tokens.data && tokens.data.length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">User</th>
                <th scope="col">Scope</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((token) => (
                <TokenRow key={token.id} token={token} onChanged={tokens.reload} />
              ))}
            </tbody>
          </table>
        )}
      </section>
      {users.data && (
        <section class="card" aria-labelledby="users-title">
          <h2 id="users-title">Users</h2>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Dashboard login</th>
                <th scope="col">Added</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((user) => (
                <tr key={user.id}>
                  <td>{user.name}</td>
                  <td>{user.admin ? 'administrator' : 'user'}</td>
                  <td>{user.has_password ? 'yes' : 'no'}</td>
                  <td>{formatTime(user.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="hint">Add users with <code>steward user add NAME</code> on the server's machine.</p>
        </section>
      )}
    </>
  );
}

function TokenRow({ token, onChanged }: { token: Token; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const revoke = async () => {
    if (!window.confirm(`Revoke the token “${token.name}”? Whatever uses it stops working.`)) return;
    setBusy(true);
    try {
      await post(`/tokens/${token.id}/revoke`);
      toast(`Revoked ${token.name}`);
    } catch (cause) {
      toast((cause as ApiError).message, 'error');
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return (
    <tr>
      <td>{token.name}</td>
      <td>{token.user}</td>
      <td>
        <Badge value={token.scope} />
      </td>
      <td>{when(token.expires_at)}</td>
      <td>{when(token.last_used_at)}</td>
      <td>
        {token.revoked_at ? (
          <Badge value="revoked" title={`Revoked ${formatTime(token.revoked_at)}`} />
        ) : (
          <button type="button" class="danger" disabled={busy} onClick={revoke} aria-label={`Revoke ${token.name}`}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

function CreateToken({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState('write');
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const body = { name: name.trim(), scope, expires_in_days: days ? Number(days) : undefined };
      const created = await post<{ token: string }>('/tokens', body);
      setSecret(created.token);
      setName('');
      onCreated();
    } catch (cause) {
      setError(cause as ApiError);
    }
  };
  return (
    <section class="card" aria-labelledby="create-token-title">
      <h2 id="create-token-title">Create a token</h2>
      <form class="inline-form" onSubmit={submit}>
        <label>
          Name
          <input name="token-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Scope
          <select name="token-scope" value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value)}>
            <option value="read">read</option>
            <option value="write">write</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Expires in days
          <input
            name="token-days"
            type="number"
            min="1"
            max="3650"
            value={days}
            onInput={(e) => setDays((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Create</button>
      </form>
      <ErrorNote error={error} />
      {secret && (
        <div class="secret-once" role="status">
          <p>
            The token, shown only now — copy it (for the CLI: <code>steward login</code>):
          </p>
          <code class="token-secret">{secret}</code>
          <button type="button" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      )}
    </section>
  );
}
