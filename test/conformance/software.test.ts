import { defineWycheproofSuite } from './wycheproof.js';

defineWycheproofSuite('software');
