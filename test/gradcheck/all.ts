// Every module of gradient-check cases: one line per technique (and one for the core ops).
import './core.js';
import './circulant.js';
import './binary.js';
import './fitdnn.js';
import './hsic.js';
import './control.js';
import '../fixtures/toy-technique/gradcheck.js';

export { CASES } from './cases.js';
