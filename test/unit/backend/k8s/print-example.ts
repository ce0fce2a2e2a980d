/**
 * Prints the generated manifests: `npx tsx test/unit/backend/k8s/print-example.ts` (all of the
 * example run), `… --docs` (the block docs/scale.md shows; manifests.test.ts compares them).
 */
import { docsExampleText, exampleText } from './example';

process.stdout.write(process.argv.includes('--docs') ? docsExampleText() : exampleText());
