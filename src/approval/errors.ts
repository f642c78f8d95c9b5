/** Why a decision was refused. Every refusal leaves the incident as it was. */
export class ApprovalError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class IncidentNotFoundError extends ApprovalError {
  constructor(id: string) {
    super(`no incident ${id}`, 404);
  }
}
export class NotAwaitingApprovalError extends ApprovalError {
  constructor(id: string, state: string) {
    super(`incident ${id} is ${state}, not awaiting approval`, 409);
  }
}
export class ApprovalExpiredError extends ApprovalError {
  constructor(id: string) {
    super(`the approval request for ${id} has expired; nothing will run`, 410);
  }
}
export class StaleRunbookError extends ApprovalError {
  constructor(id: string) {
    super(`the runbook of ${id} changed since this was shown; review the new version`, 409);
  }
}
export class NotEligibleError extends ApprovalError {
  constructor(who: string, why: string) {
    super(`${who} may not decide this request: ${why}`, 403);
  }
}
export class AlreadyDecidedError extends ApprovalError {
  constructor(who: string, verdict: string) {
    super(`${who} already decided (${verdict})`, 409);
  }
}
export class UnauthenticatedError extends ApprovalError {
  constructor(message = 'unknown or missing approver credentials') {
    super(message, 401);
  }
}
