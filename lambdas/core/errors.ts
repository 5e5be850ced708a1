/**
 * The error shapes of Chime SDK Messaging. Each carries the HTTP status, the `x-amzn-ErrorType`
 * shape name the SDK maps to a typed exception, and the `Code` of the `{"Code","Message"}` body.
 */
export type ErrorShape =
  | 'BadRequestException'
  | 'UnauthorizedClientException'
  | 'ForbiddenException'
  | 'NotFoundException'
  | 'ConflictException'
  | 'ResourceLimitExceededException'
  | 'ThrottledClientException'
  | 'ServiceFailureException'
  | 'ServiceUnavailableException';

const SHAPES: Record<ErrorShape, { readonly status: number; readonly code: string }> = {
  BadRequestException: { status: 400, code: 'BadRequest' },
  UnauthorizedClientException: { status: 401, code: 'Unauthorized' },
  ForbiddenException: { status: 403, code: 'Forbidden' },
  NotFoundException: { status: 404, code: 'NotFound' },
  ConflictException: { status: 409, code: 'Conflict' },
  ResourceLimitExceededException: { status: 400, code: 'ResourceLimitExceeded' },
  ThrottledClientException: { status: 429, code: 'Throttled' },
  ServiceFailureException: { status: 500, code: 'ServiceFailure' },
  ServiceUnavailableException: { status: 503, code: 'ServiceUnavailable' },
};

export class ChimeError extends Error {
  readonly shape: ErrorShape;
  readonly status: number;
  readonly code: string;

  constructor(shape: ErrorShape, message: string) {
    super(message);
    this.name = shape;
    this.shape = shape;
    this.status = SHAPES[shape].status;
    this.code = SHAPES[shape].code;
  }
}

export const badRequest = (message: string) => new ChimeError('BadRequestException', message);
export const unauthorized = (message: string) => new ChimeError('UnauthorizedClientException', message);
export const forbidden = (message: string) => new ChimeError('ForbiddenException', message);
export const notFound = (message: string) => new ChimeError('NotFoundException', message);
export const conflict = (message: string) => new ChimeError('ConflictException', message);
export const serviceFailure = (message: string) => new ChimeError('ServiceFailureException', message);

export const isChimeError = (error: unknown): error is ChimeError => error instanceof ChimeError;
