module.exports = {
  displayName: 'lib-pdf',
  preset: '../../jest.preset.js',
};
