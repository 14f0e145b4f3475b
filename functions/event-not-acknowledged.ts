/**
 * How a CloudEvent function tells Eventarc (locally: the bridge) to deliver
 * an event again: it throws, functions-framework answers non-2xx. Returning
 * acknowledges. Both event functions register through `retryingCloudEvent`.
 */
import * as functions from '@google-cloud/functions-framework';
import type {CloudEvent} from '@google-cloud/functions-framework';
import {jsonLogger} from '../shared/logger.js';
import {currentExchange} from './exchange.js';

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

/**
 * Registers `name` as a CloudEvent function: `handle` returning
 * acknowledges the event; its throwing is logged in one structured line and
 * turned into EventNotAcknowledged, so that the event is delivered again.
 */
export function retryingCloudEvent(
  name: string,
  handle: (
    event: CloudEvent<unknown>,
    requestId: string | undefined,
  ) => Promise<unknown>,
): void {
  functions.cloudEvent(name, async (event: CloudEvent<unknown>) => {
    const exchange = currentExchange();
    try {
      await handle(event, exchange?.requestId);
    } catch (error) {
      // Not the context's logger: making the context may be what failed.
      jsonLogger().log(
        'ERROR',
        `${name} failed, to be retried: ${error instanceof Error ? error.message : String(error)}`,
        {function: name, requestId: exchange?.requestId, eventId: event.id},
      );
      if (exchange) exchange.failure = error;
      throw new EventNotAcknowledged(exchange?.requestId);
    }
  });
}
