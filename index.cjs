'use strict';
/**
 * The CommonJS entry (`require('pkaccel')`). pkaccel is an ES module; Node.js
 * 20.19+ and 22.12+ can require() it, and this file hands it over. On a
 * Node.js that cannot, it throws one clear error saying what to write instead.
 */
try {
  module.exports = require('./dist/index.js');
} catch (error) {
  const code = error?.code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    const esmOnly = new Error(
      `pkaccel is an ES module and this Node.js (${process.version}) cannot require() it: ` +
        "load it with `const pkaccel = await import('pkaccel')` (inside an async function), " +
        'or make your project an ES module ("type": "module" in package.json).',
      { cause: error },
    );
    esmOnly.code = 'ERR_PKACCEL_ESM_ONLY';
    throw esmOnly;
  }
  throw error;
}
