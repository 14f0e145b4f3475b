/**
 * Thrown by a CloudEvent function to functions-framework so that it answers
 * non-2xx and Eventarc retries. The framework logs `err.stack`: this one is a
 * single line (the details were logged structured just before), and the
 * front door renders the answer as the JSON error of the original failure.
 */
export class EventNotAcknowledged extends Error {
  constructor(requestId: string | undefined) {
    super(`event not acknowledged; see request id ${requestId ?? '-'}`);
    this.name = 'EventNotAcknowledged';
    this.stack = `${this.name}: ${this.message}`;
  }
}
