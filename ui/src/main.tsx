// Entry point: starts the live event stream and mounts the dashboard.
import { render } from 'preact';
import { App } from './app';
import { watchAgents } from './agents';
import { loadSession, needsLogin } from './auth';
import { startLiveEvents } from './live';
import { LoginPage } from './pages/login';
import './styles.css';

// The session first: a server that requires a login shows only the login page.
loadSession().then(() => {
  const root = document.getElementById('app');
  if (!root) return;
  if (needsLogin.value) {
    render(<LoginPage />, root);
    return;
  }
  startLiveEvents();
  watchAgents();
  render(<App />, root);
});
