module.exports = {
  displayName: 'lib-jobs',
  preset: '../../jest.preset.js',
};
