/** The page's entry point (bundled by esbuild into dist/app.js and dist/app.css; see ../bundle.ts). */
import { render } from 'preact';
import { App } from './app.tsx';
import './style.css';

render(<App />, document.getElementById('app')!);
