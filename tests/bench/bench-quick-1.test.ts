/** The quick run of every benchmark, part 1 (support/quick-check.ts says what is checked). */
import { quickBenchSuite } from './support/quick-check.ts';

quickBenchSuite(1);
