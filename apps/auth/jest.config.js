module.exports = {
  displayName: 'auth',
  preset: '../../jest.preset.js',
  // ESM-only packages the app module reaches (TOTP's base32 and HMAC, the OpenID client) are compiled
  // to CommonJS too, wherever they are nested: only the innermost node_modules segment decides. pg-boss
  // and its own ESM dependencies come with the kit's durable jobs.
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|@scure|@noble|openid-client|oauth4webapi|pg-boss|rrule-temporal|serialize-error|non-error)/)(?!.*/node_modules/)',
  ],
};
