/**
 * GET /loadParquet, /loadTfrecord, /loadMetadata, /listDatasets: signed URLs
 * and metadata of a ready version, and the catalogue newest first.
 */
import * as functions from '@google-cloud/functions-framework';
import type {Request} from '@google-cloud/functions-framework';
import type {Format} from '../shared/dataset/config.js';
import {
  listDatasets,
  loadMetadata,
  loadObject,
  parseListParameters,
  parseVersionSelector,
} from '../shared/service/load-service.js';
import {resolveTtl} from '../shared/storage/signed-url.js';
import {serviceContext} from './instance-context.js';
import {httpFunction, queryOf} from './http.js';
import type {FunctionName} from './function-names.js';

const log = () => serviceContext().log;

/** version=N|latest and ttlSeconds, as every loader takes them. */
function versionedQuery(req: Request) {
  const query = queryOf(req, ['version', 'ttlSeconds']);
  const context = serviceContext();
  const selector = parseVersionSelector(query.version);
  const ttl = resolveTtl(
    query.ttlSeconds,
    context.settings.signedUrlTtlSeconds,
    context.settings.signedUrlMaxTtlSeconds,
  );
  return {context, selector, ttl};
}

function objectLoader(name: FunctionName, format: Format) {
  return httpFunction({name, log}, async (req, requestLog) => {
    const {context, selector, ttl} = versionedQuery(req);
    return {
      status: 200,
      body: await loadObject(format, selector, ttl, {
        ...context,
        log: requestLog,
      }),
    };
  });
}

export const loadParquetHandler = objectLoader('loadParquet', 'parquet');
export const loadTfrecordHandler = objectLoader('loadTfrecord', 'tfrecord');

export const loadMetadataHandler = httpFunction(
  {name: 'loadMetadata', log},
  async (req, requestLog) => {
    const {context, selector, ttl} = versionedQuery(req);
    return {
      status: 200,
      body: await loadMetadata(selector, ttl, {...context, log: requestLog}),
    };
  },
);

export const listDatasetsHandler = httpFunction(
  {name: 'listDatasets', log},
  async (req, requestLog) => {
    const query = queryOf(req, ['limit', 'pageToken']);
    const {limit, after} = parseListParameters(query.limit, query.pageToken);
    return {
      status: 200,
      body: await listDatasets(limit, after, {
        ...serviceContext(),
        log: requestLog,
      }),
    };
  },
);

functions.http('loadParquet', loadParquetHandler);
functions.http('loadTfrecord', loadTfrecordHandler);
functions.http('loadMetadata', loadMetadataHandler);
functions.http('listDatasets', listDatasetsHandler);
