/**
 * POST /evaluatePolicy: body `{"version": N | "latest", "policy": P}` ->
 * 200 {version, value, logging, uniform, best} (docs/design.md §12). The
 * front door has read the body (JSON, at most 64 KiB, never inflated).
 */
import * as functions from '@google-cloud/functions-framework';
import {
  evaluatePolicy,
  parseEvaluateRequest,
} from '../shared/service/evaluate-service.js';
import {serviceContext} from './instance-context.js';
import {httpFunction, queryOf} from './http.js';

export const evaluatePolicyHandler = httpFunction(
  {name: 'evaluatePolicy', log: () => serviceContext().log},
  async (req, log, exchange) => {
    queryOf(req, []);
    const request = parseEvaluateRequest(
      exchange.body.present ? exchange.body.value : {},
    );
    const context = serviceContext();
    return {
      status: 200,
      body: await evaluatePolicy(request, {...context, log}),
    };
  },
);

functions.http('evaluatePolicy', evaluatePolicyHandler);
