// Pages whose capabilities have not landed yet keep their place in the
// navigation and say what they will hold.

import { useLocation } from 'preact-iso';
import { Empty, PageHeader } from '../components/ui';

const UPCOMING: Record<string, { title: string; text: string }> = {
  '/projects': {
    title: 'Projects',
    text: 'Coming with spec-driven projects: requirements, design, the task graph and the approval at each phase gate.',
  },
};

export function Upcoming() {
  const { path } = useLocation();
  const page = UPCOMING[path] ?? { title: 'Coming soon', text: '' };
  return (
    <>
      <PageHeader title={page.title} />
      <Empty title={`${page.title} are not in this version of Steward yet`}>
        <p>{page.text}</p>
      </Empty>
    </>
  );
}

export function NotFound() {
  const { path } = useLocation();
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty title={`Nothing lives at ${path}`}>
        <p>
          Go <a href="/">home</a>, or press <kbd>Ctrl K</kbd> to search for an agent, action or run.
        </p>
      </Empty>
    </>
  );
}
