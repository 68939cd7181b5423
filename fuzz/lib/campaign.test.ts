import { wireTarget } from './campaign';

describe('wireTarget', () => {
  it('keeps dot segments as generated, so the server sees them (fetch would resolve /a/%2e%2e to /)', () => {
    expect(wireTarget('/v1/me/aliases/%2e%2e')).toBe('/v1/me/aliases/%2e%2e');
    expect(wireTarget('/v1/payments/..?limit=1')).toBe('/v1/payments/..?limit=1');
  });

  it('percent-encodes as UTF-8 only what HTTP does not carry raw: spaces, controls, #, non-ASCII', () => {
    expect(wireTarget("/v1/payments/'; DROP TABLE users; --")).toBe("/v1/payments/';%20DROP%20TABLE%20users;%20--");
    expect(wireTarget('/v1/x/a#b\u0000é€')).toBe('/v1/x/a%23b%00%C3%A9%E2%82%AC');
  });
});
