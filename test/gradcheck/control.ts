// Gradient checks of the control technique's op (cos).
import * as F from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf } = inputs(47);

gradcheckCase('cos', (x) => F.cos(x), [leaf([3, 4], -3, 3)]);
