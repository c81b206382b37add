import { outboundMetadata, partConfirmedByEcho, rowConfirmedByEcho } from './outbound-echo';

describe('the metadata of a reply’s sends, read back from their echoes', () => {
  it('names the row for a reply sent as one message, and confirms that row', () => {
    expect(outboundMetadata('r_1')).toBe('relay:outbound:r_1');
    expect(outboundMetadata('r_1', { index: 0, of: 1 })).toBe('relay:outbound:r_1');
    expect(rowConfirmedByEcho('relay:outbound:r_1')).toBe('r_1');
    expect(partConfirmedByEcho('relay:outbound:r_1')).toBeNull();
  });

  it('names the row and the part for each part of a split text, which confirm the part and not the row', () => {
    expect(outboundMetadata('r_1', { index: 2, of: 3 })).toBe('relay:outbound:r_1#2');
    expect(rowConfirmedByEcho('relay:outbound:r_1#2')).toBeNull();
    expect(partConfirmedByEcho('relay:outbound:r_1#2')).toEqual({ rowId: 'r_1', part: 2 });
  });

  it('takes nothing from another app’s metadata or a malformed one', () => {
    for (const metadata of [undefined, 42, '', 'r_1', 'other:outbound:r_1', 'relay:outbound:', 'relay:outbound:r 1', 'relay:outbound:r_1#', 'relay:outbound:r_1#x', 'relay:outbound:r_1#1#2']) {
      expect(rowConfirmedByEcho(metadata)).toBeNull();
      expect(partConfirmedByEcho(metadata)).toBeNull();
    }
  });
});
