// The dashboard's pages as the navigation and the command palette list them.

export interface NavItem {
  path: string;
  label: string;
  keywords?: string;
}

export const NAV: NavItem[] = [
  { path: '/', label: 'Home', keywords: 'needs you today overview' },
  { path: '/agents', label: 'Agents', keywords: 'goals' },
  { path: '/kanban', label: 'Kanban', keywords: 'board actions jobs' },
  { path: '/graph', label: 'Dependencies', keywords: 'graph dag blocked' },
  { path: '/timeline', label: 'Timeline', keywords: 'events activity live' },
  { path: '/runs', label: 'Runs', keywords: 'traces waterfall' },
  { path: '/approvals', label: 'Approvals', keywords: 'inbox approve reject' },
  { path: '/costs', label: 'Costs', keywords: 'spend budget money' },
  { path: '/queue', label: 'Queue', keywords: 'jobs retry' },
  { path: '/schedules', label: 'Schedules', keywords: 'cron timer recurring' },
  { path: '/routines', label: 'Routines', keywords: 'morning plan deliveries slack email webhook' },
  { path: '/memory', label: 'Memory', keywords: 'facts preferences remember forget core blocks' },
  { path: '/access', label: 'Access', keywords: 'tokens users api keys revoke' },
  { path: '/living-docs', label: 'Living docs', keywords: 'architecture design git sync commits' },
  { path: '/projects', label: 'Projects', keywords: 'spec requirements design tasks gates worktrees' },
];
