// Worker thread entry point: sipmeet runs TypeScript through tsx without a build step, and a worker thread does not
// inherit the parent's loader registration, so register tsx here before loading the real worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
