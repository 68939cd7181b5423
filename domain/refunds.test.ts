import { refundShareRoundHalfUp, type RefundablePayment } from './refunds';

const payment = (amount: number, fee: number, reservedAmount = 0, reservedFee = 0): RefundablePayment => ({ amount, fee, reservedAmount, reservedFee });

describe('refundShareRoundHalfUp', () => {
  it.each([
    ['a full refund returns the whole fee', payment(5000, 100), 5000, { amount: 5000, feeRefunded: 100, netAmount: 4900 }],
    ['half of 50 with fee 1 rounds half up to 1', payment(50, 1), 25, { amount: 25, feeRefunded: 1, netAmount: 24 }],
    ['the completing half takes the remainder, 0', payment(50, 1, 25, 1), 25, { amount: 25, feeRefunded: 0, netAmount: 25 }],
    ['a proportional share below one half rounds down', payment(1000, 30, 0, 0), 10, { amount: 10, feeRefunded: 0, netAmount: 10 }],
    ['the share is capped by what is left of the fee', payment(100, 10, 5, 10), 90, { amount: 90, feeRefunded: 0, netAmount: 90 }],
    ['no fee, nothing returned', payment(700, 0), 300, { amount: 300, feeRefunded: 0, netAmount: 300 }],
    ['the share never leaves more fee than amount to refund', payment(10, 4, 6, 0), 1, { amount: 1, feeRefunded: 1, netAmount: 0 }],
  ])('when %s, then the split is exact', (_name, refundable, amount, expected) => {
    expect(refundShareRoundHalfUp(refundable, amount)).toEqual(expected);
  });

  it.each([
    ['zero', payment(100, 1), 0],
    ['negative', payment(100, 1), -1],
    ['more than is left', payment(100, 1, 60, 1), 41],
    ['anything once fully refunded', payment(100, 1, 100, 1), 1],
  ])('when the amount is %s, then there is no refund', (_name, refundable, amount) => {
    expect(refundShareRoundHalfUp(refundable, amount)).toBeNull();
  });

  it('when small refunds exhaust a payment, then their fee shares sum to its fee and nets to its net', () => {
    let reserved = { amount: 0, fee: 0 };
    for (let index = 0; index < 10; index += 1) {
      const share = refundShareRoundHalfUp(payment(10, 4, reserved.amount, reserved.fee), 1);
      if (!share) throw new Error('refund refused');
      expect(share.netAmount).toBeGreaterThanOrEqual(0);
      reserved = { amount: reserved.amount + share.amount, fee: reserved.fee + share.feeRefunded };
    }
    expect(reserved).toEqual({ amount: 10, fee: 4 });
  });

  it('when the amounts are not safe integers, then it throws', () => {
    expect(() => refundShareRoundHalfUp(payment(100, 1), 1.5)).toThrow(TypeError);
  });
});
