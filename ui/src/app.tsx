// The dashboard's frame: navigation, the live-connection indicator, the
// command palette and the routes of every page.

import { signal } from '@preact/signals';
import { lazy, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { Palette, paletteOpen } from './components/palette';
import { Toasts } from './components/ui';
import { logOut, session } from './auth';
import { liveStatus } from './live';
import { NAV } from './nav';
import { Home } from './pages/home';
import { AgentsPage } from './pages/agents';
import { AgentPage } from './pages/agent';
import { NewAgentPage } from './pages/agent-new';
import { ChatPage } from './pages/chat';
import { ActionPage } from './pages/action';
import { KanbanPage } from './pages/kanban';
import { TimelinePage } from './pages/timeline';
import { RunsPage } from './pages/runs';
import { RunPage } from './pages/run';
import { ApprovalsPage } from './pages/approvals';
import { CostsPage } from './pages/costs';
import { QueuePage } from './pages/queue';
import { JobPage } from './pages/job';
import { LivingDocsPage } from './pages/living-docs';
import { MemoryPage } from './pages/memory';
import { AccessPage } from './pages/access';
import { RoutinesPage } from './pages/routines';
import { SchedulesPage } from './pages/schedules';
import { NotFound } from './pages/not-found';
import { ProjectsPage } from './pages/projects';

// The layout library is the biggest dependency: load it with its page only.
const GraphPage = lazy(() => import('./pages/graph').then((module) => module.GraphPage));

const menuOpen = signal(false);

function Navigation() {
  const { path } = useLocation();
  const current = (item: string) => (item === '/' ? path === '/' : path === item || path.startsWith(`${item}/`));
  return (
    <nav id="navigation" class={menuOpen.value ? 'nav open' : 'nav'} aria-label="Pages">
      <ul>
        {NAV.map((item) => (
          <li key={item.path}>
            <a href={item.path} aria-current={current(item.path) ? 'page' : undefined} onClick={() => (menuOpen.value = false)}>
              {item.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function LiveIndicator() {
  const status = liveStatus.value;
  const text = status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span class={`live live-${status}`} role="status" title="Updates arrive from the server's event stream">
      <span class="live-dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function ScrollToTopOnNavigation() {
  const { path } = useLocation();
  useEffect(() => {
    const main = document.getElementById('main');
    main?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path]);
  return null;
}

export function App() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        paletteOpen.value = !paletteOpen.value;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <LocationProvider>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="shell">
        <header class="topbar">
          <button
            type="button"
            class="menu-button"
            aria-expanded={menuOpen.value}
            aria-controls="navigation"
            onClick={() => (menuOpen.value = !menuOpen.value)}
          >
            Menu
          </button>
          <a class="brand" href="/">
            Steward
          </a>
          <LiveIndicator />
          {session.value?.user && (
            <button type="button" class="logout-button" onClick={() => logOut().then(() => window.location.reload())}>
              Log out {session.value.user}
            </button>
          )}
          <button type="button" class="palette-button" onClick={() => (paletteOpen.value = true)} aria-keyshortcuts="Control+K Meta+K">
            <span class="wide-only">Search or run…</span>
            <span class="narrow-only">Search</span>
            <kbd>Ctrl K</kbd>
          </button>
        </header>
        <Navigation />
        <main id="main" tabIndex={-1}>
          <ScrollToTopOnNavigation />
          <Router>
            <Route path="/" component={Home} />
            <Route path="/agents" component={AgentsPage} />
            <Route path="/agents/new" component={NewAgentPage} />
            <Route path="/agents/:id" component={AgentPage} />
            <Route path="/agents/:id/chat" component={ChatPage} />
            <Route path="/actions/:id" component={ActionPage} />
            <Route path="/kanban" component={KanbanPage} />
            <Route path="/graph" component={GraphPage} />
            <Route path="/timeline" component={TimelinePage} />
            <Route path="/runs" component={RunsPage} />
            <Route path="/runs/:id" component={RunPage} />
            <Route path="/approvals" component={ApprovalsPage} />
            <Route path="/costs" component={CostsPage} />
            <Route path="/queue" component={QueuePage} />
            <Route path="/queue/:id" component={JobPage} />
            <Route path="/schedules" component={SchedulesPage} />
            <Route path="/routines" component={RoutinesPage} />
            <Route path="/memory" component={MemoryPage} />
            <Route path="/access" component={AccessPage} />
            <Route path="/living-docs" component={LivingDocsPage} />
            <Route path="/projects" component={ProjectsPage} />
            <Route default component={NotFound} />
          </Router>
        </main>
      </div>
      <Palette />
      <Toasts />
    </LocationProvider>
  );
}
