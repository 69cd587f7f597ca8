#!/usr/bin/env node
// The `sipmeet` command. sipmeet runs its TypeScript sources directly through tsx (no build step), so the
// launcher registers tsx's ESM loader and then loads the real entry point.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
