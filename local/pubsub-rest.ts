/**
 * The few Pub/Sub calls the local stack needs, over the emulator's REST API
 * (no client library: nothing to authenticate, nothing kept open, and a pull
 * can be aborted when the bridge stops).
 */
import {LocalStackError} from './errors.js';

export interface PubsubMessage {
  messageId: string;
  publishTime: string;
  /** Base64. */
  data?: string;
  attributes?: Record<string, string>;
}

export interface ReceivedMessage {
  ackId: string;
  message: PubsubMessage;
}

export interface PullOptions {
  maxMessages: number;
  /** false: the emulator holds the request until a message arrives (about 90 s at most). */
  returnImmediately?: boolean;
  signal?: AbortSignal;
}

export class PubsubRestClient {
  private readonly base: string;

  /** `host` is host:port (PUBSUB_EMULATOR_HOST). */
  constructor(
    host: string,
    readonly projectId: string,
  ) {
    this.base = `http://${host}/v1`;
  }

  topicPath(topic: string): string {
    return `projects/${this.projectId}/topics/${topic}`;
  }

  subscriptionPath(subscription: string): string {
    return `projects/${this.projectId}/subscriptions/${subscription}`;
  }

  /** Creates the topic; one that exists already is fine. */
  async createTopic(topic: string): Promise<void> {
    await this.call('PUT', this.topicPath(topic), {}, [409]);
  }

  /** Creates a pull subscription; one that exists already is fine. */
  async createSubscription(
    subscription: string,
    topic: string,
    ackDeadlineSeconds = 60,
  ): Promise<void> {
    await this.call(
      'PUT',
      this.subscriptionPath(subscription),
      {topic: this.topicPath(topic), ackDeadlineSeconds},
      [409],
    );
  }

  async deleteSubscription(subscription: string): Promise<void> {
    await this.call(
      'DELETE',
      this.subscriptionPath(subscription),
      undefined,
      [404],
    );
  }

  async pull(
    subscription: string,
    options: PullOptions,
  ): Promise<ReceivedMessage[]> {
    const body = (await this.call(
      'POST',
      `${this.subscriptionPath(subscription)}:pull`,
      {
        maxMessages: options.maxMessages,
        returnImmediately: options.returnImmediately ?? false,
      },
      [],
      options.signal,
    )) as {receivedMessages?: ReceivedMessage[]};
    return body.receivedMessages ?? [];
  }

  async acknowledge(subscription: string, ackIds: string[]): Promise<void> {
    if (ackIds.length === 0) return;
    await this.call(
      'POST',
      `${this.subscriptionPath(subscription)}:acknowledge`,
      {ackIds},
    );
  }

  /** Seconds = 0 is a nack: the message is redelivered at once. */
  async modifyAckDeadline(
    subscription: string,
    ackIds: string[],
    ackDeadlineSeconds: number,
  ): Promise<void> {
    if (ackIds.length === 0) return;
    await this.call(
      'POST',
      `${this.subscriptionPath(subscription)}:modifyAckDeadline`,
      {
        ackIds,
        ackDeadlineSeconds,
      },
    );
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    tolerated: number[] = [],
    signal?: AbortSignal,
  ): Promise<unknown> {
    const res = await fetch(`${this.base}/${path}`, {
      method,
      headers: {'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    if (!res.ok && !tolerated.includes(res.status)) {
      throw new LocalStackError(
        `Pub/Sub emulator: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    }
    return text ? JSON.parse(text) : {};
  }
}
