import { mentionedUsernames } from './mentions';

describe('mentionedUsernames', () => {
  it('finds handles, once each, but not e-mail addresses or partial words', () => {
    expect(mentionedUsernames('Thanks @ann_lee and @bob42! cc @ann_lee, mail me at x@example.com or a@b')).toEqual(['ann_lee', 'bob42']);
    expect(mentionedUsernames('@ab is too short, @Upper is not a handle, (@zed_1) is')).toEqual(['zed_1']);
  });
});
