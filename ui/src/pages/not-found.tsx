// The page for an address nothing lives at.

import { useLocation } from 'preact-iso';
import { Empty, PageHeader } from '../components/ui';

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
