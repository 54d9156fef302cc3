module.exports = {
  displayName: 'auth',
  preset: '../../jest.preset.js',
  // ESM-only packages the app module reaches (TOTP's base32 and HMAC, the OpenID client) are compiled
  // to CommonJS too, wherever they are nested: only the innermost node_modules segment decides.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@scure|@noble|openid-client|oauth4webapi)/)(?!.*/node_modules/)'],
};
