/**
 * Imported FIRST by main.ts: zod would otherwise probe `new Function` for its JIT when the
 * protocol's schemas are built, which the webview's CSP (no eval) reports as a violation. Object
 * schemas read this flag when they are created, so it must be set before any schema exists.
 */
import * as z from 'zod';

z.config({ jitless: true });
