/** The quick run of every benchmark, part 4 (support/quick-check.ts says what is checked). */
import { quickBenchSuite } from './support/quick-check.ts';

quickBenchSuite(4);
