import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter sagas by in the Temporal Web UI.
 * The dev-server script registers exactly these; workflows and starters set them
 * through the typed keys below.
 */
export const SEARCH_ATTRIBUTES = {
  PaymentId: 'Keyword',
  CustomerId: 'Keyword',
  MerchantId: 'Keyword',
  SagaStatus: 'Keyword',
} as const;

/** The name of one custom search attribute. */
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys of the custom search attributes above. */
export const PaymentIdKey = defineSearchAttributeKey('PaymentId', SearchAttributeType.KEYWORD);
export const CustomerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const MerchantIdKey = defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD);
export const SagaStatusKey = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);
