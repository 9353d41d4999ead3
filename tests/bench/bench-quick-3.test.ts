/** The quick run of every benchmark, part 3 (support/quick-check.ts says what is checked). */
import { quickBenchSuite } from './support/quick-check.ts';

quickBenchSuite(3);
