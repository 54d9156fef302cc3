module.exports = {
  displayName: 'lib-realtime',
  preset: '../../jest.preset.js',
};
