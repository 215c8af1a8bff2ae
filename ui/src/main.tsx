// Entry point: starts the live event stream and mounts the dashboard.
import { render } from 'preact';
import { App } from './app';
import { watchAgents } from './agents';
import { startLiveEvents } from './live';
import './styles.css';

startLiveEvents();
watchAgents();
const root = document.getElementById('app');
if (root) render(<App />, root);
