/** The shared op suite on the CPU reference backend (goldens only: parity would compare it with itself). */
import { describeOpSuite } from './op-suite.js';

describeOpSuite('cpu');
