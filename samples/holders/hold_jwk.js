// Holder for the JWK process tests: a Node.js process holding a private JWK.
//
// Usage: node hold_jwk.js KEY.jwk
//
// Reads the JWK's JSON text, keeps it as a string, and keeps the object
// JSON.parse made of it (whose members V8 holds as separate strings).  Prints
// "READY" once both are held and sleeps until killed.
'use strict';
const fs = require('fs');

const jwkText = fs.readFileSync(process.argv[2], 'latin1');
const jwkObject = JSON.parse(jwkText);
globalThis.heldJwk = { text: jwkText, object: jwkObject };
process.stdout.write('READY\n');
setTimeout(() => console.log(Object.keys(globalThis.heldJwk.object).length), 600000);
